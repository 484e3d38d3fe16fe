package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/server"
)

// Tests here use a real listener where the behaviour lives in net/http's connection handling. Their
// clients have a generous timeout only so that a regression fails instead of hanging; nothing asserts
// how long anything took.
const clientTimeout = 30 * time.Second

// countingListener counts the bytes the server reads from its connections, and how many it had read
// when it first wrote (when its first answer went out).
type countingListener struct {
	net.Listener
	read        atomic.Int64
	readAtWrite atomic.Int64 // -1 until the first write
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.readAtWrite.CompareAndSwap(-1, c.l.read.Load())
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's half-close before it drops a connection.
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// serveCounted runs Switchboard (SQLite store) with the given limits on a real listener.
func serveCounted(t *testing.T, lim server.Limits) (*httptest.Server, *countingListener, *http.Client) {
	t.Helper()
	e := apitest.NewWithOptions(t, "sqlite", app.Options{Limits: lim})
	srv := httptest.NewUnstartedServer(e.Handler)
	l := &countingListener{Listener: srv.Listener}
	l.readAtWrite.Store(-1)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, l, &http.Client{Transport: tr, Timeout: clientTimeout}
}

// stallingBody sends head, then nothing until the test ends: a client that stops sending mid-body (the
// limit of one byte a second).
type stallingBody struct {
	head    []byte
	release chan struct{}
}

func newStallingBody(t *testing.T, head string) *stallingBody {
	b := &stallingBody{head: []byte(head), release: make(chan struct{})}
	t.Cleanup(func() { close(b.release) })
	return b
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	// Give up with the client: its transport waits for the body's writer even after its timeout.
	select {
	case <-b.release:
	case <-time.After(clientTimeout):
	}
	return 0, io.ErrUnexpectedEOF
}

// adminToken authenticates as the admin over srv.
func adminToken(t *testing.T, c *http.Client, srv *httptest.Server) string {
	t.Helper()
	resp, err := c.Post(srv.URL+"/ictcore/authenticate", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+apitest.AdminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("authenticate: %d %v", resp.StatusCode, err)
	}
	return out.Token
}

// callHTTP sends one request and answers its status, whether the server said Connection: close (Go's client
// takes that header out of the response's and sets Close), and its body.
func callHTTP(t *testing.T, c *http.Client, method, url, bearer, ctype string, body io.Reader) (int, bool, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Close, string(b)
}

func newGroup(t *testing.T, c *http.Client, srv *httptest.Server, tok string) int64 {
	t.Helper()
	status, _, body := callHTTP(t, c, "POST", srv.URL+"/ictcore/groups", tok, "application/json", strings.NewReader(`{"name":"g"}`))
	var out struct {
		GroupID int64 `json:"group_id"`
	}
	if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil {
		t.Fatalf("create group: %d %s", status, body)
	}
	return out.GroupID
}

// TestSlowBodyIsRefused: a JSON body that stops arriving is answered with the API's validation error
// (ICTCore: 412) once BodyTimeouts.Body has passed, and the connection is closed. Without the read
// deadline the server waits for the body for ever.
func TestSlowBodyIsRefused(t *testing.T) {
	srv, _, c := serveCounted(t, server.Limits{BodyTimeouts: server.BodyTimeouts{Body: 300 * time.Millisecond}})
	status, closed, body := callHTTP(t, c, "POST", srv.URL+"/ictcore/authenticate", "", "application/json",
		newStallingBody(t, `{"username":"admin",`))
	if status != 412 || !strings.Contains(body, "not received in time") || !closed {
		t.Fatalf("%d close=%v %s", status, closed, body)
	}
}

// TestSlowUploadIsRefused: an upload that falls below the minimum rate after its grace is refused the
// same way, mid-import, and nothing of it is stored.
func TestSlowUploadIsRefused(t *testing.T) {
	srv, _, c := serveCounted(t, server.Limits{BodyTimeouts: server.BodyTimeouts{UploadGrace: 300 * time.Millisecond, UploadMinRate: 1 << 20}})
	tok := adminToken(t, c, srv)
	group := newGroup(t, c, srv, tok)
	url := fmt.Sprintf("%s/ictcore/groups/%d/csv", srv.URL, group)
	status, closed, body := callHTTP(t, c, "POST", url, tok, "text/csv", newStallingBody(t, "phone\n03001234567\n"))
	if status != 412 || !strings.Contains(body, "not received in time") || !closed {
		t.Fatalf("%d close=%v %s", status, closed, body)
	}
	_, _, got := callHTTP(t, c, "GET", fmt.Sprintf("%s/ictcore/groups/%d", srv.URL, group), tok, "", nil)
	if !strings.Contains(got, `"contact_total":0`) {
		t.Fatalf("the refused upload left contacts: %s", got)
	}
}

// pacedBody sends its chunks with a pause before each but the first.
type pacedBody struct {
	chunks [][]byte
	pause  time.Duration
	off    int // into chunks[0]
	begun  bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if len(b.chunks) == 0 {
		return 0, io.EOF
	}
	if b.off == 0 && b.begun {
		time.Sleep(b.pause)
	}
	b.begun = true
	n := copy(p, b.chunks[0][b.off:])
	if b.off += n; b.off == len(b.chunks[0]) {
		b.chunks, b.off = b.chunks[1:], 0
	}
	return n, nil
}

// TestSteadyUploadOutlivesGrace: an upload that keeps above the minimum rate may take longer than its
// grace: each chunk extends its deadline. Eight 4 KiB chunks 100 ms apart outlast a 300 ms grace, and
// at 1 KiB/s each chunk buys four seconds, so it completes.
func TestSteadyUploadOutlivesGrace(t *testing.T) {
	srv, _, c := serveCounted(t, server.Limits{BodyTimeouts: server.BodyTimeouts{UploadGrace: 300 * time.Millisecond, UploadMinRate: 1 << 10}})
	tok := adminToken(t, c, srv)
	group := newGroup(t, c, srv, tok)
	var chunks [][]byte
	row := 0
	for range 8 {
		var b bytes.Buffer
		for b.Len() < 4<<10 {
			fmt.Fprintf(&b, "0300%07d\n", row)
			row++
		}
		chunks = append(chunks, b.Bytes())
	}
	url := fmt.Sprintf("%s/ictcore/groups/%d/csv", srv.URL, group)
	status, _, body := callHTTP(t, c, "POST", url, tok, "text/csv", &pacedBody{chunks: chunks, pause: 100 * time.Millisecond})
	if status != 200 || !strings.Contains(body, fmt.Sprintf(`"imported":%d`, row)) {
		t.Fatalf("%d %s (want %d imported)", status, body, row)
	}
}

// dribble hands out one byte per read, sleeping before each: a slow body on a handler with no
// connection (httptest.ResponseRecorder), where the deadline is checked between reads.
type dribble struct {
	data  []byte
	pause time.Duration
}

func (d *dribble) Read(p []byte) (int, error) {
	if len(d.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(d.pause)
	p[0], d.data = d.data[0], d.data[1:]
	return 1, nil
}

// TestSlowBodyWithoutConnection: the same refusal where the writer cannot set a read deadline.
func TestSlowBodyWithoutConnection(t *testing.T) {
	e := apitest.NewWithOptions(t, "sqlite", app.Options{Limits: server.Limits{BodyTimeouts: server.BodyTimeouts{Body: 100 * time.Millisecond}}})
	body := `{"username":"admin","password":"` + strings.Repeat("p", 100) + `"}`
	req := httptest.NewRequest("POST", "/ictcore/authenticate", &dribble{data: []byte(body), pause: 10 * time.Millisecond})
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	if rec.Code != 412 || !strings.Contains(rec.Body.String(), "not received in time") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// csvStream is a large CSV body of unknown length (sent chunked, as a streaming client does).
type csvStream struct{ left int }

func (s *csvStream) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.left)
	for i := range n {
		p[i] = "0300123456\n"[i%11]
	}
	s.left -= n
	return n, nil
}

// TestRefusedUploadClosesConnection: a stranger's 10 MB upload is refused (401) with Connection: close
// before the server has read much of it. Without the header net/http reads up to 256 KiB of the unread
// body before it sends the refusal, to keep the connection. The listener counts what the server had read
// when its answer went out (a client-side count would include what the kernels' socket buffers soaked up).
func TestRefusedUploadClosesConnection(t *testing.T) {
	srv, l, c := serveCounted(t, server.Limits{})
	req, err := http.NewRequest("POST", srv.URL+"/ictcore/groups/1/csv", &csvStream{left: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	read := l.readAtWrite.Load()
	if resp.StatusCode != 401 || !resp.Close {
		t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
	}
	t.Logf("the server had read %d bytes when it answered", read)
	if read < 0 || read > 64<<10 {
		t.Fatalf("the server had read %d bytes when it answered; want well under 256 KiB", read)
	}
}

// TestSecurityHeaders: nosniff everywhere; no-store on the vendor APIs (tokens, personal data), errors
// included; the docs may not be framed and run only their own scripts.
func TestSecurityHeaders(t *testing.T) {
	e := apitest.New(t, "sqlite")
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/ictcore/contacts", "", 401},
		{"POST", "/ictcore/authenticate", `{"username":"admin","password":"` + apitest.AdminPassword + `"}`, 200},
		{"GET", "/nowhere", "", 404},
	} {
		req := apitest.Request{Method: tc.method, Path: tc.path}
		if tc.body != "" {
			req.Body, req.Header = strings.NewReader(tc.body), apitest.Headers("Content-Type", "application/json")
		}
		r := e.Do(t, req)
		if r.Status != tc.status || r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: %d nosniff=%q cache=%q", tc.method, tc.path, r.Status, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Cache-Control"))
		}
	}

	for _, path := range []string{"/docs", "/docs/ictcore/", "/docs/ictcore/swagger-ui-bundle.js"} {
		r := e.Do(t, apitest.Request{Method: "GET", Path: path})
		csp := r.Header.Get("Content-Security-Policy")
		if r.Status != 200 || r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: %d frame=%q csp=%q", path, r.Status, r.Header.Get("X-Frame-Options"), csp)
		}
	}

	// The Swagger UI page's inline scripts run by hash, nothing else inline does.
	r := e.Do(t, apitest.Request{Method: "GET", Path: "/docs/ictcore/"})
	csp := r.Header.Get("Content-Security-Policy")
	scriptSrc := regexp.MustCompile(`script-src ([^;]*)`).FindStringSubmatch(csp)
	if scriptSrc == nil || strings.Contains(scriptSrc[1], "unsafe-inline") {
		t.Fatalf("script-src: %q", csp)
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(r.Body, -1)
	if len(scripts) == 0 {
		t.Fatalf("no inline script on the Swagger UI page: %.300s", r.Body)
	}
	for _, s := range scripts {
		sum := sha256.Sum256(s[1])
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(scriptSrc[1], h) {
			t.Errorf("inline script %.60q: hash %s not in %q", s[1], h, scriptSrc[1])
		}
	}
}

// canceling is the panicking API with a health handler that answers its context's error, as a handler
// does when its client left mid-request.
type canceling struct{ panicking }

func (canceling) Register(g *echo.Group) {
	g.GET("/health", func(c echo.Context) error { return c.Request().Context().Err() })
}

// TestClientGoneIsInfo: a request whose client left (its context canceled) is logged at INFO with status
// 499 and counted as 499, not logged as a server error, on a vendor route and on a top-level one
// (/readyz, whose ping fails with the canceled context).
func TestClientGoneIsInfo(t *testing.T) {
	var logs bytes.Buffer
	h, err := server.New(server.Config{DB: apitest.NewDB(t, "sqlite"), APIs: []server.API{canceling{}},
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/platform/health", "/readyz"} {
		logs.Reset()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil).WithContext(ctx))
		var line struct {
			Level, Msg, Outcome string
			Status              int
		}
		found := false
		for _, raw := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
			if err := json.Unmarshal(raw, &line); err == nil && line.Msg == "request" {
				found = true
				break
			}
		}
		if !found || line.Level != "INFO" || line.Status != 499 || line.Outcome != "client closed request" {
			t.Errorf("GET %s: request line %+v in\n%s", path, line, logs.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !regexp.MustCompile(`switchboard_http_request_duration_seconds_count\{api="platform",operation="getHealth",status="499"\} \d+`).MatchString(rec.Body.String()) {
		t.Errorf("no 499 in the metrics")
	}
}
