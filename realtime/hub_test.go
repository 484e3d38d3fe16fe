package realtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/realtime"
)

type proto struct{ opened chan *realtime.Conn }

func (p *proto) Open(_ context.Context, c *realtime.Conn, _ func(context.Context) ([]byte, error)) error {
	p.opened <- c
	return nil
}
func (p *proto) Message(c *realtime.Conn, msg []byte) { c.Send(msg) } // echo
func (p *proto) Closed(*realtime.Conn)                {}

// serveOne starts a hub with o behind a test server and connects one client: the hub, the client's end,
// the hub's end (with owner), and a context that bounds the test.
func serveOne(t *testing.T, o realtime.Options, owner any) (*realtime.Hub, *websocket.Conn, *realtime.Conn, context.Context) {
	t.Helper()
	hub := realtime.New(o)
	p := &proto{opened: make(chan *realtime.Conn, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = hub.Serve(w, r, owner, p) }))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return hub, c, <-p.opened, ctx
}

// waitGone waits until the hub holds no connection.
func waitGone(t *testing.T, hub *realtime.Hub) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hub.Len() != 0 {
		t.Fatal("the closed connection stayed in the hub")
	}
}

// TestSlowClientClosed: a client that does not read is closed with CloseSlow once its queue is full, and
// Send never blocks; a reading client gets its messages.
func TestSlowClientClosed(t *testing.T) {
	t.Parallel()
	hub, c, conn, ctx := serveOne(t, realtime.Options{SendQueue: 4}, "owner")
	c.SetReadLimit(-1)
	if hub.Get(conn.ID) != conn || conn.Owner() != "owner" || len(conn.ID) != 24 {
		t.Fatalf("conn %q not registered", conn.ID)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "hi" {
		t.Fatalf("echo: %q %v", msg, err)
	}

	// Now the client stops reading: sends fill the queue (and the socket buffers), then the hub closes it.
	big := make([]byte, 64<<10)
	start := time.Now()
	closed := false
	for i := 0; i < 10000 && !closed; i++ {
		closed = !conn.Send(big)
	}
	if !closed {
		t.Fatal("a client that does not read was never closed")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Send blocked: %v", time.Since(start))
	}
	<-conn.Done()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != realtime.CloseSlow {
				t.Fatalf("close: %v, want %d", err, realtime.CloseSlow)
			}
			break
		}
	}
	waitGone(t, hub)
}

// TestSendThenClose: messages queued before a Close reach the client before the close frame, in order
// (a protocol's last answer, a goodbye).
func TestSendThenClose(t *testing.T) {
	t.Parallel()
	_, c, conn, ctx := serveOne(t, realtime.Options{}, nil)
	for _, m := range []string{"one", "two", "bye"} {
		conn.Send([]byte(m))
	}
	conn.Close(4001, "done")
	var got []string
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != 4001 {
				t.Fatalf("close: %v, want 4001", err)
			}
			break
		}
		got = append(got, string(msg))
	}
	if strings.Join(got, ",") != "one,two,bye" {
		t.Fatalf("got %q before the close, want one,two,bye", got)
	}
}

// TestStuckWriteCut: a client that stops reading while its queue is not full is not closed as slow, but a
// write it has not taken within PongTimeout (its socket buffers full) cuts it off, and it leaves the hub.
func TestStuckWriteCut(t *testing.T) {
	t.Parallel()
	hub, _, conn, _ := serveOne(t, realtime.Options{SendQueue: 64, PongTimeout: 200 * time.Millisecond}, nil)
	// 32 MiB unread is more than loopback's socket buffers hold, and 32 messages leave the queue room.
	big := make([]byte, 1<<20)
	for range 32 {
		if !conn.Send(big) {
			t.Fatal("closed as slow: the queue was not full")
		}
	}
	select {
	case <-conn.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a write the client never took was not cut off")
	}
	waitGone(t, hub)
}
