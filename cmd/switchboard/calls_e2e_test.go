package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/platform"
	"switchboard/queue"
	"switchboard/webhooks"
)

// TestMain drops the Postgres stores the in-process tests of this package take (apitest.NewDB). In the
// node processes the tests start (TestHelperNode) it has nothing to drop.
func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// e2eAPI is where a test sends its HTTP calls: an in-process apitest.Env or a node process
// (apitest.Remote); either checks every answer against the contract.
type e2eAPI interface {
	SendJSON(t testing.TB, h http.Header, method, path string, body any) *apitest.Response
}

// e2eSetup is what the end-to-end call tests make through the platform and CIM APIs.
type e2eSetup struct {
	admin, events string // API keys
	ana, bob      string // CRM ids of two Accolades agents
	sara, john    string // CIM contacts: Sara found by the mapping, John owning the call's phone number
	hookID        int64
	secret        string // the webhook's signing secret, as its create answered it
}

const (
	e2eCustomerNo = "C-7001"       // Sara's customerNo, which the call carries in callVariable1
	e2ePhone      = "0300 1234567" // the call's number: John's, which the mapping must not pick
)

// ok sends a request with the admin key and expects the status.
func (s *e2eSetup) ok(t *testing.T, api e2eAPI, status int, method, path string, body, out any) {
	t.Helper()
	r := api.SendJSON(t, apitest.Headers("X-API-Key", s.admin), method, path, body)
	if r.Status != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	if out != nil {
		r.JSON(t, out)
	}
}

// setUp makes, through api with the admin key: an Accolades account with agents Ana and Bob, a CIM
// attribute customerNo with contacts Sara (customerNo C-7001) and John (the call's phone), the mapping
// callVariable1 → customerNo, and a webhook subscription to hookURL.
func (s *e2eSetup) setUp(t *testing.T, api e2eAPI, hookURL string) {
	t.Helper()
	var acct struct{ ID int64 }
	s.ok(t, api, http.StatusCreated, "POST", "/platform/accolades-accounts", map[string]any{"account_number": "1001", "name": "E2E",
		"password": "accolades-pw"}, &acct)
	var agent struct {
		CrmID string `json:"crm_id"`
	}
	agents := "/platform/accolades-accounts/" + strconv.FormatInt(acct.ID, 10) + "/agents"
	s.ok(t, api, http.StatusCreated, "POST", agents, map[string]any{"name": "Ana", "device_id": "27"}, &agent)
	s.ana = agent.CrmID
	s.ok(t, api, http.StatusCreated, "POST", agents, map[string]any{"name": "Bob", "device_id": "28"}, &agent)
	s.bob = agent.CrmID
	if s.ana == "" || s.bob == "" || s.ana == s.bob {
		t.Fatalf("CRM ids %q and %q", s.ana, s.bob)
	}

	s.ok(t, api, http.StatusOK, "POST", "/cim/saveSchema", map[string]any{"label": "Customer No", "key": "customerNo", "type": "text"}, nil)
	var c struct {
		ID string `json:"_id"`
	}
	s.ok(t, api, http.StatusOK, "POST", "/cim/saveContact", map[string]any{"first_name": "Sara", "phone1": "0321-7654321",
		"customerNo": e2eCustomerNo}, &c)
	s.sara = c.ID
	s.ok(t, api, http.StatusOK, "POST", "/cim/saveContact", map[string]any{"first_name": "John", "phone1": "0300-1234567"}, &c)
	s.john = c.ID
	s.ok(t, api, http.StatusOK, "POST", "/cim/mapping", map[string]any{"callVar": "callVariable", "varNumber": "1", "key": "customerNo"}, nil)

	var hook struct {
		ID     int64
		Secret string
	}
	s.ok(t, api, http.StatusCreated, "POST", "/platform/webhooks", map[string]any{"url": hookURL + "/calls", "description": "e2e"}, &hook)
	if hook.Secret == "" {
		t.Fatal("the webhook's create answered no secret")
	}
	s.hookID, s.secret = hook.ID, hook.Secret
}

// post publishes a call event with the events key and answers the 202's body.
func (s *e2eSetup) post(t *testing.T, api e2eAPI, ev map[string]any) []byte {
	t.Helper()
	r := api.SendJSON(t, apitest.Headers("X-API-Key", s.events), "POST", "/platform/call-events", ev)
	if r.Status != http.StatusAccepted {
		t.Fatalf("post %v: %d %s", ev, r.Status, r.Body)
	}
	return r.Body
}

// crm connects a CRM application to the Accolades socket at base and authenticates it as crmID.
func crm(t *testing.T, base, crmID string) *apitest.Socket {
	t.Helper()
	s := apitest.DialSocket(t, "ws"+strings.TrimPrefix(base, "http")+"/accolades", "accolades-crm")
	s.Send(t, "authRequest", map[string]string{"type": "authRequest", "idCrm": crmID})
	if m := s.Read(t, "authSucces"); m["version"] != "1.1.0" {
		t.Fatalf("authSucces: %v", m)
	}
	return s
}

// expectCall reads the socket's next message, which must be incomingCall of the call uniqueID.
func expectCall(t *testing.T, s *apitest.Socket, uniqueID, phone, callCenter string) {
	t.Helper()
	m := s.Read(t, "incomingCall")
	if m["uniqueId"] != uniqueID || m["phoneNumber"] != phone || m["callCenter"] != callCenter {
		t.Fatalf("incomingCall %v, want call %s from %s (callCenter %s)", m, uniqueID, phone, callCenter)
	}
}

// hookReceiver is the webhook subscriber's endpoint: it answers 204 to everything and keeps every
// request.
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []hookRequest
	wake chan struct{}
}

type hookRequest struct {
	method, path string
	header       http.Header
	body         []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{wake: make(chan struct{}, 1)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
		h.mu.Unlock()
		select {
		case h.wake <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

// of answers the deliveries received so far of the call uniqueID (any state).
func (h *hookReceiver) of(uniqueID string) []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookRequest
	for _, r := range h.got {
		var ev struct {
			UniqueID string `json:"unique_id"`
		}
		if json.Unmarshal(r.body, &ev) == nil && ev.UniqueID == uniqueID {
			out = append(out, r)
		}
	}
	return out
}

// wait waits until a delivery of the call uniqueID has arrived, and answers the first; the bound only
// stops a hang.
func (h *hookReceiver) wait(t *testing.T, uniqueID string) hookRequest {
	t.Helper()
	deadline := time.After(90 * time.Second)
	for {
		if got := h.of(uniqueID); len(got) > 0 {
			return got[0]
		}
		select {
		case <-h.wake:
		case <-deadline:
			t.Fatalf("no webhook delivery of call %s", uniqueID)
		}
	}
}

var hexSignature = regexp.MustCompile(`^sha256=([0-9a-f]{64})$`)

// checkDelivery verifies a delivery as a receiver does: a POST signed sha256=hex(HMAC-SHA256(secret,
// "<timestamp>.<body>")), computed here rather than with the server's own code, whose body is the event
// as POST /platform/call-events answered it.
func checkDelivery(t *testing.T, r hookRequest, secret string, event []byte) {
	t.Helper()
	ts, sig := r.header.Get("X-Switchboard-Timestamp"), r.header.Get("X-Switchboard-Signature")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || r.method != http.MethodPost || r.path != "/calls" ||
		r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("delivery %s %s, timestamp %q, headers %v", r.method, r.path, ts, r.header)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(r.body)
	want := m.Sum(nil)
	got := hexSignature.FindStringSubmatch(sig)
	if got == nil {
		t.Fatalf("signature %q is not sha256=<hex>", sig)
	}
	if raw, _ := hex.DecodeString(got[1]); !hmac.Equal(raw, want) {
		t.Fatalf("signature %q does not verify with the subscription's secret over %q.%s", sig, ts, r.body)
	}
	var delivered, posted map[string]any
	if err := json.Unmarshal(r.body, &delivered); err != nil {
		t.Fatalf("delivery body %s: %v", r.body, err)
	}
	_ = json.Unmarshal(event, &posted)
	if !reflect.DeepEqual(delivered, posted) {
		t.Fatalf("delivered %s, want the event %s", r.body, event)
	}
}

// loggedDeliveries answers the subscription's delivery log for the call uniqueID.
func (s *e2eSetup) loggedDeliveries(t *testing.T, api e2eAPI, uniqueID string) []struct{ Outcome, State string } {
	t.Helper()
	var log []struct{ Outcome, State string }
	s.ok(t, api, http.StatusOK, "GET", "/platform/webhooks/"+strconv.FormatInt(s.hookID, 10)+"/deliveries?limit=100&unique_id="+uniqueID, nil, &log)
	return log
}

// waitDelivered waits until the delivery log shows the call uniqueID delivered; the bound only stops a
// hang.
func (s *e2eSetup) waitDelivered(t *testing.T, api e2eAPI, uniqueID string) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if log := s.loggedDeliveries(t, api, uniqueID); len(log) > 0 && log[len(log)-1].Outcome == "delivered" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery of call %s is not logged as delivered", uniqueID)
		}
	}
}

// e2eTree is a CIM InteractionTree, with the fields the tests check.
type e2eTree struct {
	CallID       string `json:"call_Id"`
	PhoneNumber  string `json:"phone_number"`
	Interactions []struct {
		Type            string `json:"type"`
		AgentID         string `json:"agentId"`
		InteractionType string `json:"interaction_type"`
	} `json:"interactions"`
}

// calls answers a contact's interaction trees (GET /cim/interactions/loadInteractions/{contact}).
func (s *e2eSetup) calls(t *testing.T, api e2eAPI, contact string) []e2eTree {
	t.Helper()
	var ts []e2eTree
	s.ok(t, api, http.StatusOK, "GET", "/cim/interactions/loadInteractions/"+contact, nil, &ts)
	return ts
}

// expectOneCall checks that Sara has the call uniqueID, one leg of Ana's, and John none.
func (s *e2eSetup) expectOneCall(t *testing.T, api e2eAPI, uniqueID string) {
	t.Helper()
	ts := s.calls(t, api, s.sara)
	if len(ts) != 1 || ts[0].CallID != uniqueID || ts[0].PhoneNumber != e2ePhone || len(ts[0].Interactions) != 1 {
		t.Fatalf("Sara's calls: %+v, want call %s with one interaction", ts, uniqueID)
	}
	if l := ts[0].Interactions[0]; l.Type != "INBOUND" || l.InteractionType != "AGENT" || l.AgentID != s.ana {
		t.Fatalf("Sara's interaction: %+v, want Ana's (%s) inbound", l, s.ana)
	}
	if ts := s.calls(t, api, s.john); len(ts) != 0 {
		t.Fatalf("John (the call's number, not the mapping's contact) has calls: %+v", ts)
	}
}

// e2eCall is the scenario both tests run. setupOn makes the setup and takes the first event; otherOn
// takes the rest and answers the reads; ana is Ana's socket, bob Bob's.
//
//  1. A ringing call of Ana's, carrying Sara's customerNo in callVariable1, is posted: Ana's CRM gets its
//     incomingCall; a later call of Bob's is Bob's socket's first message (so Ana's call never reached
//     it); the webhook gets one POST, signed with the secret, whose body is the event; Sara (found by the
//     mapping, not John whose number it is) has the call with Ana's leg.
//  2. The same event is posted again: it answers the stored event, and a later call of Ana's is her
//     socket's next message (no second push); the webhook got that call's delivery and still one of the
//     first, and the log says so; Sara still has one call with one leg.
func e2eCall(t *testing.T, s *e2eSetup, setupOn, otherOn e2eAPI, ana, bob *apitest.Socket, hook *hookReceiver) {
	first := map[string]any{"direction": "inbound", "phone": e2ePhone, "agent": s.ana, "unique_id": "1608743891.1344",
		"call_center": true, "state": "ringing", "variables": map[string]string{"callVariable1": e2eCustomerNo}}
	event := s.post(t, setupOn, first)
	expectCall(t, ana, "1608743891.1344", e2ePhone, "yes")
	s.post(t, setupOn, map[string]any{"direction": "inbound", "phone": "0211230000", "agent": s.bob, "unique_id": "1608743891.2000", "state": "ringing"})
	expectCall(t, bob, "1608743891.2000", "0211230000", "no")
	checkDelivery(t, hook.wait(t, "1608743891.1344"), s.secret, event)
	s.expectOneCall(t, otherOn, "1608743891.1344")

	again := s.post(t, otherOn, first)
	var a, b map[string]any
	_ = json.Unmarshal(event, &a)
	_ = json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("posted again: %s, want the stored event %s", again, event)
	}
	s.post(t, otherOn, map[string]any{"direction": "inbound", "phone": "0211230001", "agent": s.ana, "unique_id": "1608743891.3000", "state": "ringing"})
	expectCall(t, ana, "1608743891.3000", "0211230001", "no")
	hook.wait(t, "1608743891.3000")
	s.waitDelivered(t, otherOn, "1608743891.3000")
	s.waitDelivered(t, otherOn, "1608743891.1344")
	if got := hook.of("1608743891.1344"); len(got) != 1 {
		t.Fatalf("the webhook got the first call %d times, want once", len(got))
	}
	if log := s.loggedDeliveries(t, otherOn, "1608743891.1344"); len(log) != 1 || log[0].State != "ringing" {
		t.Fatalf("the first call's delivery log: %+v, want one delivered attempt", log)
	}
	s.expectOneCall(t, otherOn, "1608743891.1344")
}

// TestCallEndToEnd (issue 10) runs a call event through the whole of one Switchboard on each store: from
// POST /platform/call-events to the CRM socket of the event's agent, CIM's interaction on the contact the
// mapping finds, and a signed webhook delivery; posting it again changes nothing (see e2eCall). The
// queue has one worker, so deliveries are made in the order their events were stored: once a later
// call's delivery has arrived, a second one of the first call would have too.
func TestCallEndToEnd(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := apitest.NewWithOptions(t, kind, app.Options{Queue: queue.Config{Workers: 1, PollInterval: 20 * time.Millisecond},
			Webhooks: webhooks.Config{RetryDelay: 10 * time.Millisecond}})
		s := &e2eSetup{admin: e.APIKey(t, "e2e admin", platform.ScopeAdmin), events: e.APIKey(t, "pbx", platform.ScopeEvents)}
		hook := newHookReceiver(t)
		s.setUp(t, e, hook.URL)
		ana, bob := crm(t, e.URL(), s.ana), crm(t, e.URL(), s.bob)
		e2eCall(t, s, e, e, ana, bob, hook)
	})
}

// keyAdd runs `switchboard key add NAME SCOPE` on the store dbURL (which migrates it) and answers the key.
func keyAdd(t *testing.T, dbURL, name, scope string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"switchboard", "key", "add", name, scope}, env(map[string]string{"DATABASE_URL": dbURL,
		"LOG_LEVEL": "WARN"}), &out); err != nil {
		t.Fatalf("key add: %v\n%s", err, out.String())
	}
	key := regexp.MustCompile(`sb_[A-Za-z0-9_-]+`).FindString(out.String())
	if key == "" {
		t.Fatalf("key add printed no key: %s", out.String())
	}
	return key
}

// TestCallEndToEndTwoNodes is TestCallEndToEnd across two `switchboard serve` processes on one Postgres
// store: the setup and the first event go to node A, the CRM sockets, the repeated and later events and
// every read to node B (Ana's socket on B, Bob's on A). Ana's CRM on B gets the call posted to A, CIM's
// interaction is visible through B, and the webhook gets one signed delivery of it, not one per node.
func TestCallEndToEndTwoNodes(t *testing.T) {
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	url := apitest.EmptyStoreURL(t, "postgres")
	s := &e2eSetup{admin: keyAdd(t, url, "e2e admin", platform.ScopeAdmin), events: keyAdd(t, url, "pbx", platform.ScopeEvents)}
	a, b := startNode(t, url), startNode(t, url)
	for _, n := range []*node{a, b} {
		if _, err := n.stdin.Write([]byte("\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*node{a, b} {
		n.waitReady(t)
	}
	apiA, apiB := apitest.Remote{URL: "http://" + a.addr}, apitest.Remote{URL: "http://" + b.addr}
	hook := newHookReceiver(t)
	s.setUp(t, apiA, hook.URL)
	ana, bob := crm(t, apiB.URL, s.ana), crm(t, apiA.URL, s.bob)
	e2eCall(t, s, apiA, apiB, ana, bob, hook)

	_, _ = ana.Conn.CloseNow(), bob.Conn.CloseNow() // a node's shutdown waits for the CRMs it tells to answer
	for i, n := range []*node{a, b} {
		if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := n.wait(); err != nil {
			t.Errorf("node %d: %v\n%s", i, err, n.output())
		}
	}
}
