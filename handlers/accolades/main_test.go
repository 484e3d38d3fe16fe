package accolades_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/apitest"
	"switchboard/handlers/accolades"
	"switchboard/models/events"
	"switchboard/server"

	model "switchboard/models/accolades"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// fakePublisher stands in for the call-event stream: it keeps every event once per unique id and state,
// and hands each new one to the listeners, as the bus does on every node.
type fakePublisher struct {
	mu        sync.Mutex
	events    []events.CallEvent
	seen      map[[2]string]bool
	listeners []events.Listener
}

func (p *fakePublisher) Publish(_ context.Context, e events.CallEvent) (events.CallEvent, bool, error) {
	p.mu.Lock()
	if p.seen == nil {
		p.seen = map[[2]string]bool{}
	}
	key := [2]string{e.UniqueID, e.State}
	if p.seen[key] {
		p.mu.Unlock()
		return e, false, nil
	}
	p.seen[key] = true
	e.ReceivedAt = time.Now().UTC()
	p.events = append(p.events, e)
	ls := p.listeners
	p.mu.Unlock()
	for _, l := range ls {
		l(e)
	}
	return e, true, nil
}

// published answers the events so far.
func (p *fakePublisher) published() []events.CallEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]events.CallEvent(nil), p.events...)
}

// waitFor waits until an event matches, and answers it.
func (p *fakePublisher) waitFor(t *testing.T, match func(events.CallEvent) bool) events.CallEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range p.published() {
			if match(e) {
				return e
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no such event among %+v", p.published())
	return events.CallEvent{}
}

// node is one Switchboard node serving only the Accolades API, with a fake call-event stream.
type node struct {
	*apitest.Env
	h      *accolades.Handler
	pub    *fakePublisher
	cancel context.CancelFunc
}

// newNode builds a node over db (a fresh store of kind when db is nil); cfg's DB, Log and Publisher are
// filled in.
func newNode(t *testing.T, kind string, env *apitest.Env, cfg accolades.Config) *node {
	t.Helper()
	db := apitest.NewDB(t, kind)
	if env != nil {
		db = env.DB
	}
	pub := &fakePublisher{}
	cfg.DB, cfg.Publisher = db, pub
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := accolades.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pub.listeners = append(pub.listeners, h.Deliver)
	handler, err := server.New(server.Config{DB: db, Log: cfg.Log, APIs: []server.API{h}})
	if err != nil {
		t.Fatal(err)
	}
	return &node{Env: &apitest.Env{T: t, Kind: kind, DB: db, Handler: handler}, h: h, pub: pub, cancel: cancel}
}

// seed is an account with two agents, made through the store as the platform API makes them.
type seed struct {
	account        *model.Account
	ana, bob       *model.Agent
	password       string
	accountNumber  string
	otherAccount   *model.Account
	otherAgent     *model.Agent
	otherAccountPw string
}

func (n *node) seed(t *testing.T) seed {
	t.Helper()
	ctx := context.Background()
	s := seed{password: "accolades-pw", accountNumber: "1001", otherAccountPw: "other-password"}
	var err error
	if s.account, err = model.CreateAccount(ctx, n.DB, model.AccountInput{AccountNumber: "1001", Name: "Demo", Password: s.password, Data: "INFO_ACCOUNT"}); err != nil {
		t.Fatal(err)
	}
	if s.ana, err = model.CreateAgent(ctx, n.DB, s.account.ID, model.AgentInput{Name: "Ana", DeviceID: "27", Data: "INFO_AGENT", PhoneData: "INFO_PHONE"}); err != nil {
		t.Fatal(err)
	}
	if s.bob, err = model.CreateAgent(ctx, n.DB, s.account.ID, model.AgentInput{Name: "Bob", DeviceID: "28"}); err != nil {
		t.Fatal(err)
	}
	if s.otherAccount, err = model.CreateAccount(ctx, n.DB, model.AccountInput{AccountNumber: "2002", Password: s.otherAccountPw}); err != nil {
		t.Fatal(err)
	}
	if s.otherAgent, err = model.CreateAgent(ctx, n.DB, s.otherAccount.ID, model.AgentInput{Name: "Olga", DeviceID: "29"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// crm is a CRM application's connection, every message checked against accolades-crm.yaml.
type crm struct {
	c *websocket.Conn
	s apitest.AsyncSchemas
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/accolades" }

// connect opens a CRM connection to the node.
func (n *node) connect(t *testing.T) *crm {
	t.Helper()
	return connectTo(t, n.URL())
}

func connectTo(t *testing.T, base string) *crm {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(base), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &crm{c: c, s: apitest.AsyncAPI(t, "accolades-crm")}
}

// send writes a message, which must be valid as message name of the contract.
func (c *crm) send(t *testing.T, name string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.s.Check(name, b); err != nil {
		t.Fatalf("%s breaks accolades-crm.yaml: %s: %v", name, b, err)
	}
	c.sendRaw(t, b)
}

// sendRaw writes a text frame as it is.
func (c *crm) sendRaw(t *testing.T, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write %s: %v", b, err)
	}
}

// read reads the next message, which must be valid as message name.
func (c *crm) read(t *testing.T, name string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, msg, err := c.c.Read(ctx)
	if err != nil || typ != websocket.MessageText {
		t.Fatalf("read %s: %v", name, err)
	}
	if err := c.s.Check(name, msg); err != nil {
		t.Fatalf("%s breaks accolades-crm.yaml: %s: %v", name, msg, err)
	}
	var out map[string]any
	_ = json.Unmarshal(msg, &out)
	return out
}

// closed reads until the connection ends (failing on any message but a valid connectionClosed) and
// answers the close code and reason.
func (c *crm) closed(t *testing.T) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		_, msg, err := c.c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("the connection ended without a close frame: %v", err)
			}
			return ce.Code, ce.Reason
		}
		if err := c.s.Check("connectionClosed", msg); err != nil {
			t.Fatalf("a message before the close: %s (%v)", msg, err)
		}
	}
}

// auth authenticates as crm and expects authSucces.
func (c *crm) auth(t *testing.T, crmID string) {
	t.Helper()
	c.send(t, "authRequest", map[string]string{"type": "authRequest", "idCrm": crmID})
	if m := c.read(t, "authSucces"); m["version"] != "1.1.0" {
		t.Fatalf("authSucces: %v", m)
	}
}

// authFails authenticates as crmID and expects authFailed with reason, then close 4001 with the reason.
func (c *crm) authFails(t *testing.T, crmID, reason string) {
	t.Helper()
	c.send(t, "authRequest", map[string]string{"type": "authRequest", "idCrm": crmID})
	if m := c.read(t, "authFailed"); m["reason"] != reason {
		t.Fatalf("authFailed %v, want %s", m, reason)
	}
	if code, why := c.closed(t); code != accolades.CloseAuth || why != reason {
		t.Fatalf("closed %d %q, want 4001 %s", code, why, reason)
	}
}

// quiet proves nothing was pushed to c so far: a version request's answer is the next message.
func (c *crm) quiet(t *testing.T) {
	t.Helper()
	c.send(t, "versionRequest", map[string]string{"type": "version"})
	c.read(t, "version")
}

// form posts a form to a REST path of the node and answers the response, checked against the contract.
func (n *node) form(t *testing.T, path string, vals url.Values) *apitest.Response {
	t.Helper()
	return n.Do(t, apitest.Request{Method: http.MethodPost, Path: "/accolades-api" + path, Body: strings.NewReader(vals.Encode()),
		Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded")})
}

// expectError checks an Accolades error: the status, and the body's type, message and code.
func expectError(t *testing.T, r *apitest.Response, status int, message, code string) {
	t.Helper()
	var body struct{ Type, Message, Code string }
	r.JSON(t, &body)
	if r.Status != status || body.Type != "Error" || !strings.HasPrefix(body.Message, message) || body.Code != code {
		t.Fatalf("got %d %s, want %d %q %q", r.Status, r.Body, status, message, code)
	}
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
