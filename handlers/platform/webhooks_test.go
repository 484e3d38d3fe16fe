package platform_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/queue"
	"switchboard/webhooks"
)

type webhook struct {
	ID          int64    `json:"id"`
	URL         string   `json:"url"`
	Format      string   `json:"format"`
	Description string   `json:"description"`
	States      []string `json:"states"`
	Directions  []string `json:"directions"`
	Agents      []string `json:"agents"`
	Active      bool     `json:"active"`
	Secret      string   `json:"secret"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

type delivery struct {
	ID          int64  `json:"id"`
	WebhookID   int64  `json:"webhook_id"`
	DeliveryID  int64  `json:"delivery_id"`
	UniqueID    string `json:"unique_id"`
	State       string `json:"state"`
	Attempt     int    `json:"attempt"`
	Outcome     string `json:"outcome"`
	StatusCode  *int   `json:"status_code"`
	Error       string `json:"error"`
	AttemptedAt string `json:"attempted_at"`
	DurationMs  int64  `json:"duration_ms"`
}

func (e *env) createWebhook(t *testing.T, body map[string]any) webhook {
	t.Helper()
	r := e.call(t, "POST", "/webhooks", body)
	var w webhook
	r.JSON(t, &w)
	if r.Status != http.StatusCreated || w.ID == 0 || w.Secret == "" {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	return w
}

// deliveries answers a subscription's whole delivery log.
func (e *env) deliveries(t *testing.T, id int64, query string) []delivery {
	t.Helper()
	r := e.call(t, "GET", fmt.Sprintf("/webhooks/%d/deliveries?limit=1000%s", id, query), nil)
	var out []delivery
	r.JSON(t, &out)
	if r.Status != http.StatusOK {
		t.Fatalf("deliveries: %d %s", r.Status, r.Body)
	}
	return out
}

// waitFor polls cond until it holds; the bound only stops a hang, it asserts no timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

// hookRequest is one request a test endpoint received.
type hookRequest struct {
	header http.Header
	body   []byte
}

// endpoint is a webhook receiver under the test's control: answer decides each request's status (n
// counts from 1), and every request is handed on.
type endpoint struct {
	*httptest.Server
	got  chan hookRequest
	n    atomic.Int64
	busy atomic.Int64 // requests being answered now
	most atomic.Int64 // the most at once
}

func newEndpoint(t *testing.T, answer func(n int64, r *http.Request) int) *endpoint {
	t.Helper()
	ep := &endpoint{got: make(chan hookRequest, 100)}
	ep.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := ep.busy.Add(1)
		defer ep.busy.Add(-1)
		for m := ep.most.Load(); now > m && !ep.most.CompareAndSwap(m, now); m = ep.most.Load() {
		}
		body, _ := io.ReadAll(r.Body)
		select {
		case ep.got <- hookRequest{header: r.Header.Clone(), body: body}:
		default:
		}
		w.WriteHeader(answer(ep.n.Add(1), r))
	}))
	t.Cleanup(ep.Close)
	return ep
}

func (ep *endpoint) next(t *testing.T) hookRequest {
	t.Helper()
	select {
	case r := <-ep.got:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("the endpoint got no request")
		return hookRequest{}
	}
}

func always(status int) func(int64, *http.Request) int {
	return func(int64, *http.Request) int { return status }
}

// checkSigned verifies a request's signature headers with the subscription's secret, as a receiver does.
func checkSigned(t *testing.T, r hookRequest, secret string) {
	t.Helper()
	ts, sig := r.header.Get("X-Switchboard-Timestamp"), r.header.Get("X-Switchboard-Signature")
	if !webhooks.Verify(secret, sig, ts, r.body, time.Now(), 5*time.Minute) {
		t.Fatalf("signature %q over timestamp %q does not verify with the secret", sig, ts)
	}
	if webhooks.Verify(secret+"x", sig, ts, r.body, time.Now(), 5*time.Minute) {
		t.Fatal("the signature verifies with another secret")
	}
}

// callEventSchema is the contract's CallEvent schema, which a switchboard-format body must match.
func callEventSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	doc, err := apitest.Contract("platform")
	if err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas["CallEvent"].Value
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{})
		w := e.createWebhook(t, map[string]any{"url": "https://crm.example.com/calls?token=abc", "description": "pop-ups",
			"states": []string{"ringing", "answered", "ringing"}, "directions": []string{"inbound"}, "agents": []string{"f8cb549544"}})
		if w.ID != 1 || w.Format != "switchboard" || !w.Active || w.Description != "pop-ups" || fmt.Sprint(w.States) != "[ringing answered]" ||
			fmt.Sprint(w.Directions) != "[inbound]" || fmt.Sprint(w.Agents) != "[f8cb549544]" || !strings.HasPrefix(w.Secret, "whsec_") ||
			len(w.Secret) != 49 || w.CreatedAt == "" || w.UpdatedAt != w.CreatedAt {
			t.Fatalf("create: %+v", w)
		}
		given := e.createWebhook(t, map[string]any{"url": "http://127.0.0.1:9/hook", "secret": "my own secret 1234", "format": "accolades",
			"active": false})
		if given.Secret != "my own secret 1234" || given.Format != "accolades" || given.Active || given.States == nil || len(given.States) != 0 {
			t.Fatalf("create with a secret: %+v", given)
		}
		// The secret is answered by the create only.
		for _, path := range []string{"/webhooks", "/webhooks/1"} {
			if r := e.call(t, "GET", path, nil); r.Status != 200 || strings.Contains(string(r.Body), w.Secret) || strings.Contains(string(r.Body), "secret") {
				t.Fatalf("GET %s shows a secret: %s", path, r.Body)
			}
		}
		r := e.call(t, "PATCH", "/webhooks/1", map[string]any{"states": []string{}, "active": false, "secret": "another secret 1234"})
		var got webhook
		r.JSON(t, &got)
		if r.Status != 200 || len(got.States) != 0 || got.Active || got.Secret != "" || got.Description != "pop-ups" || fmt.Sprint(got.Agents) != "[f8cb549544]" {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		var secret string
		e.DB.Raw("SELECT secret FROM webhook_subscriptions WHERE id = 1").Scan(&secret)
		if secret != "another secret 1234" {
			t.Fatalf("patched secret not stored: %q", secret)
		}
		for i := range 3 {
			e.createWebhook(t, map[string]any{"url": fmt.Sprintf("https://example.com/%d", i)})
		}
		r = e.call(t, "GET", "/webhooks?limit=2&after=1", nil)
		var page []webhook
		r.JSON(t, &page)
		if len(page) != 2 || page[0].ID != 2 || r.Header.Get("Link") != `</platform/webhooks?after=3&limit=2>; rel="next"` {
			t.Fatalf("page: %s %q", r.Body, r.Header.Get("Link"))
		}
		if got := e.deliveries(t, 1, ""); len(got) != 0 {
			t.Fatalf("a new subscription's log: %+v", got)
		}
		if r := e.call(t, "DELETE", "/webhooks/2", nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"get deleted", "GET", "/webhooks/2", nil, 404, "webhook 2 not found"},
			{"delete deleted", "DELETE", "/webhooks/2", nil, 404, "not found"},
			{"patch deleted", "PATCH", "/webhooks/2", map[string]any{"active": true}, 404, "not found"},
			{"log of deleted", "GET", "/webhooks/2/deliveries", nil, 404, "not found"},
			{"no url", "POST", "/webhooks", map[string]any{"format": "switchboard"}, 400, "url"},
			{"not http", "POST", "/webhooks", map[string]any{"url": "ftp://example.com/x"}, 400, "url"},
			{"relative url", "POST", "/webhooks", map[string]any{"url": "/hooks"}, 400, "url"},
			{"credentials in the url", "POST", "/webhooks", map[string]any{"url": "https://me:pw@example.com/x"}, 400, "credentials"},
			{"short secret", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "secret": "short"}, 400, "secret"},
			{"unknown format", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "format": "xml"}, 400, "format"},
			{"unknown state", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "states": []string{"held"}}, 400, "states"},
			{"unknown direction", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "directions": []string{"up"}}, 400, "directions"},
			{"empty agent", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "agents": []string{""}}, 400, "agents"},
			{"unknown field", "POST", "/webhooks", map[string]any{"url": "https://example.com/x", "events": []string{}}, 400, "events"},
			{"empty patch", "PATCH", "/webhooks/1", map[string]any{}, 400, "request body"},
			{"patch a bad url", "PATCH", "/webhooks/1", map[string]any{"url": "mailto:x@example.com"}, 400, "url"},
			{"id zero", "GET", "/webhooks/0", nil, 400, "webhook_id"},
			{"unknown outcome", "GET", "/webhooks/1/deliveries?outcome=lost", nil, 400, "outcome"},
		})
	})
}

// TestWebhookDelivery: an event reaches a subscription's endpoint signed with its secret, as the contract
// describes it; the attempt is logged; subscriptions whose filter does not match get no delivery.
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{})
		ep := newEndpoint(t, always(http.StatusNoContent))
		w := e.createWebhook(t, map[string]any{"url": ep.URL + "/calls?token=abc"})
		answeredOnly := e.createWebhook(t, map[string]any{"url": ep.URL + "/answered", "states": []string{"answered"}})
		otherAgent := e.createWebhook(t, map[string]any{"url": ep.URL + "/other", "agents": []string{"someone else"}})
		inactive := e.createWebhook(t, map[string]any{"url": ep.URL + "/off", "active": false})

		sent := e.post(t, map[string]any{"direction": "inbound", "phone": "0211234567", "agent": "f8cb549544",
			"unique_id": "1608743891.1344", "state": "ringing", "call_center": true, "variables": map[string]string{"customer": "7"}})
		// The jobs are in the event's transaction: they exist once POST answered.
		for _, tc := range []struct {
			w    webhook
			want int
		}{{w, 1}, {answeredOnly, 0}, {otherAgent, 0}, {inactive, 0}} {
			if n := deliveryJobs(t, e, tc.w.ID); n != tc.want {
				t.Fatalf("webhook %s: %d deliveries queued, want %d", tc.w.URL, n, tc.want)
			}
		}
		r := ep.next(t)
		checkSigned(t, r, w.Secret)
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Switchboard-Attempt") != "1" ||
			r.header.Get("X-Switchboard-Delivery") == "" || r.header.Get("User-Agent") != "Switchboard-Webhooks/1" {
			t.Fatalf("headers: %v", r.header)
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		if err := callEventSchema(t).VisitJSON(body); err != nil {
			t.Fatalf("the body is not the contract's CallEvent: %v\n%s", err, r.body)
		}
		var got callEvent
		_ = json.Unmarshal(r.body, &got)
		if got.UniqueID != sent.UniqueID || got.ReceivedAt != sent.ReceivedAt || got.Variables["customer"] != "7" || got.Source != "platform" {
			t.Fatalf("delivered %s, posted %+v", r.body, sent)
		}

		var log []delivery
		waitFor(t, "the delivery log", func() bool { log = e.deliveries(t, w.ID, ""); return len(log) == 1 })
		d := log[0]
		if d.Outcome != "delivered" || d.StatusCode == nil || *d.StatusCode != 204 || d.Attempt != 1 || d.Error != "" ||
			d.UniqueID != "1608743891.1344" || d.State != "ringing" || d.WebhookID != w.ID || d.AttemptedAt == "" || d.DurationMs < 0 {
			t.Fatalf("log: %+v", d)
		}
		if got := e.deliveries(t, w.ID, "&outcome=failed"); len(got) != 0 {
			t.Fatalf("filtered by outcome: %+v", got)
		}
		if got := e.deliveries(t, w.ID, "&unique_id=1608743891.1344"); len(got) != 1 {
			t.Fatalf("filtered by call: %+v", got)
		}

		// The answered state goes to the subscription for it, too.
		e.post(t, map[string]any{"direction": "inbound", "phone": "0211234567", "agent": "f8cb549544", "unique_id": "1608743891.1344", "state": "answered"})
		paths := map[string]bool{}
		for range 2 {
			r := ep.next(t)
			var got callEvent
			_ = json.Unmarshal(r.body, &got)
			paths[got.State+" "+r.header.Get("X-Switchboard-Attempt")] = true
		}
		if !paths["answered 1"] || len(paths) != 1 {
			t.Fatalf("answered deliveries: %v", paths)
		}
		if n := deliveryJobs(t, e, answeredOnly.ID); n != 1 {
			t.Fatalf("answered-only: %d deliveries", n)
		}
		if secretLogged(e, w.Secret) {
			t.Fatal("a secret reached the delivery log")
		}
	})
}

func secretLogged(e *env, secret string) bool {
	var n int64
	e.DB.Raw("SELECT count(*) FROM webhook_deliveries WHERE error LIKE ?", "%"+secret+"%").Scan(&n)
	return n > 0
}

// TestWebhookRetry: an endpoint that answers 500 is tried again, and the next attempt delivers; an
// endpoint that always fails is given up after the last attempt. Every attempt is logged.
func TestWebhookRetry(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{MaxAttempts: 3})
		flaky := newEndpoint(t, func(n int64, _ *http.Request) int {
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		down := newEndpoint(t, always(http.StatusServiceUnavailable))
		wf := e.createWebhook(t, map[string]any{"url": flaky.URL})
		wd := e.createWebhook(t, map[string]any{"url": down.URL})
		e.post(t, map[string]any{"direction": "outbound", "phone": "0211234567", "unique_id": "5.5", "state": "ended"})

		first, second := flaky.next(t), flaky.next(t)
		if first.header.Get("X-Switchboard-Delivery") != second.header.Get("X-Switchboard-Delivery") ||
			first.header.Get("X-Switchboard-Attempt") != "1" || second.header.Get("X-Switchboard-Attempt") != "2" || string(first.body) != string(second.body) {
			t.Fatalf("a retry is the same delivery: %v / %v", first.header, second.header)
		}
		checkSigned(t, second, wf.Secret)
		var log []delivery
		waitFor(t, "two attempts logged", func() bool { log = e.deliveries(t, wf.ID, ""); return len(log) == 2 })
		if fmt.Sprint(log[0].DeliveryID) != first.header.Get("X-Switchboard-Delivery") || log[1].DeliveryID != log[0].DeliveryID {
			t.Fatalf("the log's delivery ids %d, %d; the header %s", log[0].DeliveryID, log[1].DeliveryID, first.header.Get("X-Switchboard-Delivery"))
		}
		if log[0].Outcome != "retrying" || *log[0].StatusCode != 500 || log[0].Attempt != 1 || !strings.Contains(log[0].Error, "answered 500") ||
			log[1].Outcome != "delivered" || *log[1].StatusCode != 200 || log[1].Attempt != 2 {
			t.Fatalf("flaky log: %+v", log)
		}

		waitFor(t, "three attempts logged", func() bool { log = e.deliveries(t, wd.ID, ""); return len(log) == 3 })
		for i, d := range log {
			want := "retrying"
			if i == 2 {
				want = "failed"
			}
			if d.Outcome != want || d.Attempt != i+1 || d.StatusCode == nil || *d.StatusCode != 503 {
				t.Fatalf("down log: %+v", log)
			}
		}
		waitFor(t, "the given-up job", func() bool { return fmt.Sprint(jobStates(t, e, wd.ID)) == "[discarded]" })
		if n := down.n.Load(); n != 3 {
			t.Fatalf("a given-up delivery was tried %d times, want 3", n)
		}
	})
}

// TestWebhookHangingEndpoint: an endpoint that never answers is timed out and retried, and holds at most
// PerEndpoint of the queue's workers: with 3 workers and 8 deliveries to it outstanding, every delivery
// to a healthy endpoint still arrives, and the hanging one never has more than one request at a time.
func TestWebhookHangingEndpoint(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		release := make(chan struct{})
		hang := newEndpoint(t, func(_ int64, r *http.Request) int {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return http.StatusOK
		})
		defer close(release)
		ok := newEndpoint(t, always(http.StatusOK))
		// Requests at once are counted where the service makes them: the endpoint's own count lasts until
		// its handler sees the client gone, which on a loaded machine came after the next attempt began.
		counted := &inFlight{base: http.DefaultTransport, host: strings.TrimPrefix(hang.URL, "http://")}
		e := newEnvWithOptions(t, kind, app.Options{Webhooks: webhooks.Config{Timeout: 300 * time.Millisecond, PerEndpoint: 1,
			RetryDelay: 50 * time.Millisecond, Transport: counted}, Queue: queue.Config{Workers: 3, PollInterval: 20 * time.Millisecond}})
		wh := e.createWebhook(t, map[string]any{"url": hang.URL})
		wok := e.createWebhook(t, map[string]any{"url": ok.URL})
		const calls = 8
		for i := range calls {
			e.post(t, map[string]any{"direction": "inbound", "phone": "0211234567", "unique_id": fmt.Sprint("h.", i), "state": "ringing"})
		}
		seen := map[string]bool{}
		for range calls {
			var got callEvent
			_ = json.Unmarshal(ok.next(t).body, &got)
			seen[got.UniqueID] = true
		}
		if len(seen) != calls {
			t.Fatalf("the healthy endpoint got %d of %d calls", len(seen), calls)
		}
		var log []delivery
		waitFor(t, "timed-out attempts logged", func() bool {
			log = e.deliveries(t, wh.ID, "&outcome=retrying")
			return len(log) >= 2
		})
		for _, d := range log {
			if d.StatusCode != nil || !strings.Contains(d.Error, "timeout") {
				t.Fatalf("a hanging endpoint's attempt: %+v", d)
			}
		}
		if most := counted.most.Load(); most != 1 {
			t.Fatalf("the hanging endpoint had %d requests at once, want at most 1 (PerEndpoint)", most)
		}
		waitFor(t, "the healthy log", func() bool { return len(e.deliveries(t, wok.ID, "&outcome=delivered")) == calls })
	})
}

// inFlight counts the requests to host under way at once, as a transport sees them.
type inFlight struct {
	base       http.RoundTripper
	host       string
	busy, most atomic.Int64
}

func (c *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != c.host {
		return c.base.RoundTrip(r)
	}
	now := c.busy.Add(1)
	defer c.busy.Add(-1)
	for m := c.most.Load(); now > m && !c.most.CompareAndSwap(m, now); m = c.most.Load() {
	}
	return c.base.RoundTrip(r)
}

// TestWebhookAccoladesFormat: a subscription in the accolades format gets Accolades' call notifications:
// a form with event answer for an answered call and hangup for an ended one, nothing for ringing, signed.
func TestWebhookAccoladesFormat(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{})
		ep := newEndpoint(t, always(http.StatusOK))
		w := e.createWebhook(t, map[string]any{"url": ep.URL, "format": "accolades"})
		call := func(state string) {
			e.post(t, map[string]any{"direction": "outbound", "phone": "0211234567", "agent": "f8cb549544", "unique_id": "1608743891.1344",
				"state": state, "call_center": false})
		}
		call("ringing")
		if n := deliveryJobs(t, e, w.ID); n != 0 {
			t.Fatalf("a ringing call queued %d accolades notifications", n)
		}
		for _, tc := range []struct{ state, event string }{{"answered", "answer"}, {"ended", "hangup"}} {
			call(tc.state)
			r := ep.next(t)
			checkSigned(t, r, w.Secret)
			if ct := r.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Fatalf("content type %s", ct)
			}
			form, err := url.ParseQuery(string(r.body))
			if err != nil {
				t.Fatal(err)
			}
			want := url.Values{"apiName": {"callNotification"}, "event": {tc.event}, "callId": {"1608743891.1344"}, "userId": {"f8cb549544"},
				"userType": {"user"}, "callDirection": {"out"}, "phoneNumber": {"0211234567"}, "callCenter": {"no"}}
			if form.Encode() != want.Encode() {
				t.Fatalf("%s: form %s, want %s", tc.state, form.Encode(), want.Encode())
			}
		}
		if n := ep.n.Load(); n != 2 {
			t.Fatalf("%d notifications, want 2", n)
		}
	})
}

// TestWebhookStopsWhenRemoved: deliveries queued for a subscription made inactive, or deleted, are not
// made.
func TestWebhookStopsWhenRemoved(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{RetryDelay: 200 * time.Millisecond, MaxAttempts: 100})
		var calls atomic.Int64
		ep := newEndpoint(t, func(int64, *http.Request) int { calls.Add(1); return http.StatusBadGateway })
		w := e.createWebhook(t, map[string]any{"url": ep.URL})
		e.post(t, map[string]any{"direction": "inbound", "phone": "1", "unique_id": "s.1", "state": "ringing"})
		ep.next(t)
		e.call(t, "PATCH", fmt.Sprintf("/webhooks/%d", w.ID), map[string]any{"active": false})
		waitFor(t, "the delivery to end", func() bool { return fmt.Sprint(jobStates(t, e, w.ID)) == "[completed]" })
		if n := calls.Load(); n > 2 { // one attempt may have been under way when it was deactivated
			t.Fatalf("%d attempts after deactivation", n)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/webhooks/%d", w.ID), nil); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		var logged int64
		e.DB.Raw("SELECT count(*) FROM webhook_deliveries").Scan(&logged)
		if logged != 0 {
			t.Fatalf("%d log rows left after the delete", logged)
		}
	})
}
