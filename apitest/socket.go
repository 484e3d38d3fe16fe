package apitest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Socket is a WebSocket client whose every message, sent or received, is checked against an AsyncAPI
// contract (openapi/asyncapi/<name>.yaml).
type Socket struct {
	Conn    *websocket.Conn
	Schemas AsyncSchemas
}

// DialSocket connects to url (ws://…) and checks the messages against the AsyncAPI contract name; the
// connection is closed when the test ends.
func DialSocket(t testing.TB, url, contract string) *Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &Socket{Conn: c, Schemas: AsyncAPI(t, contract)}
}

// Send writes v as a text frame; it must be valid as the contract's message name.
func (s *Socket) Send(t testing.TB, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Schemas.Check(name, b); err != nil {
		t.Fatalf("%s breaks the contract: %s: %v", name, b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", b, err)
	}
}

// Read reads the next message, which must be a text frame valid as the contract's message name, and
// answers it decoded. The bound (a minute) only stops a hang.
func (s *Socket) Read(t testing.TB, name string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	typ, msg, err := s.Conn.Read(ctx)
	if err != nil || typ != websocket.MessageText {
		t.Fatalf("read %s: %v (frame type %v)", name, err, typ)
	}
	if err := s.Schemas.Check(name, msg); err != nil {
		t.Fatalf("%s breaks the contract: %s: %v", name, msg, err)
	}
	var out map[string]any
	if err := json.Unmarshal(msg, &out); err != nil {
		t.Fatalf("%s: %s: %v", name, msg, err)
	}
	return out
}
