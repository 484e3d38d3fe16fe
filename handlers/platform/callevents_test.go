package platform_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/platform"
	"switchboard/queue"
	"switchboard/webhooks"
)

// heard is a listener on the node's bus (app.Options.Listeners): what every live subscriber gets.
type heard struct {
	mu  sync.Mutex
	got []events.CallEvent
	ch  chan events.CallEvent
}

func newHeard() *heard { return &heard{ch: make(chan events.CallEvent, 100)} }

func (h *heard) listen(e events.CallEvent) {
	h.mu.Lock()
	h.got = append(h.got, e)
	h.mu.Unlock()
	select {
	case h.ch <- e:
	default:
	}
}

// next waits for the next event heard; a bound only against a hang.
func (h *heard) next(t *testing.T) events.CallEvent {
	t.Helper()
	select {
	case e := <-h.ch:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no call event reached the listener")
		return events.CallEvent{}
	}
}

func (h *heard) ids() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, e := range h.got {
		ids = append(ids, e.UniqueID+"/"+e.State)
	}
	return strings.Join(ids, " ")
}

// eventEnv is a test env whose call events reach h, with webhooks tuned for tests: retries at once, the
// queue looking for work often.
func eventEnv(t *testing.T, kind string, h *heard, wh webhooks.Config) *env {
	t.Helper()
	if wh.RetryDelay == 0 {
		wh.RetryDelay = time.Millisecond
	}
	o := app.Options{Webhooks: wh, Queue: queue.Config{PollInterval: 20 * time.Millisecond}}
	if h != nil {
		o.Listeners = []events.Listener{h.listen}
	}
	return newEnvWithOptions(t, kind, o)
}

type callEvent struct {
	Direction  string            `json:"direction"`
	Phone      string            `json:"phone"`
	Agent      *string           `json:"agent"`
	UniqueID   string            `json:"unique_id"`
	CallCenter bool              `json:"call_center"`
	State      string            `json:"state"`
	Source     string            `json:"source"`
	Variables  map[string]string `json:"variables"`
	ReceivedAt string            `json:"received_at"`
}

// post publishes a call event with the admin key and expects 202.
func (e *env) post(t *testing.T, body any) callEvent {
	t.Helper()
	r := e.call(t, "POST", "/call-events", body)
	var ev callEvent
	r.JSON(t, &ev)
	if r.Status != http.StatusAccepted {
		t.Fatalf("post %v: %d %s", body, r.Status, r.Body)
	}
	return ev
}

func TestPostCallEvent(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		h := newHeard()
		e := eventEnv(t, kind, h, webhooks.Config{})
		in := map[string]any{"direction": "inbound", "phone": "0211234567", "agent": "f8cb549544", "unique_id": "1608743891.1344",
			"call_center": true, "state": "ringing", "variables": map[string]any{"customer_id": "7"}}
		got := e.post(t, in)
		if got.Direction != "inbound" || got.Phone != "0211234567" || got.Agent == nil || *got.Agent != "f8cb549544" ||
			got.UniqueID != "1608743891.1344" || !got.CallCenter || got.State != "ringing" || got.Source != "platform" ||
			got.Variables["customer_id"] != "7" || got.ReceivedAt == "" {
			t.Fatalf("answer: %+v", got)
		}
		if heard := h.next(t); heard.UniqueID != "1608743891.1344" || heard.Agent != "f8cb549544" || heard.Source != "platform" ||
			heard.Variables["customer_id"] != "7" {
			t.Fatalf("listener got %+v", heard)
		}

		// The same event again (other fields too): the stored one answers, and nobody hears it again.
		again := in
		again["phone"] = "0219999999"
		if dup := e.post(t, again); dup.ReceivedAt != got.ReceivedAt || dup.Phone != "0211234567" {
			t.Fatalf("a duplicate answered %+v, want the stored %+v", dup, got)
		}
		// The call's next states are events of their own; what clients send besides the contract's types is read.
		answered := e.post(t, map[string]any{"direction": "inbound", "phone": 211234567, "unique_id": "1608743891.1344",
			"state": "answered", "received_at": "2020-01-01T00:00:00Z", "source": "crm", "variables": map[string]any{"n": 42}})
		if answered.Phone != "211234567" || answered.Agent != nil || answered.Source != "platform" || receivedAt(t, answered.ReceivedAt).Before(receivedAt(t, got.ReceivedAt)) ||
			answered.Variables["n"] != "42" {
			t.Fatalf("answered: %+v", answered)
		}
		if ended := e.post(t, map[string]any{"direction": "inbound", "phone": "", "unique_id": 1608743891, "state": "ended"}); ended.UniqueID != "1608743891" || ended.Phone != "" {
			t.Fatalf("integer unique_id, withheld phone: %+v", ended)
		}
		h.next(t)
		h.next(t)
		if ids := h.ids(); ids != "1608743891.1344/ringing 1608743891.1344/answered 1608743891/ended" {
			t.Fatalf("heard %s", ids)
		}
		var stored int64
		e.DB.Raw("SELECT count(*) FROM call_events").Scan(&stored)
		if stored != 3 {
			t.Fatalf("%d events stored, want 3", stored)
		}

		long := map[string]any{}
		for i := range 51 {
			long[fmt.Sprint("v", i)] = "x"
		}
		valid := func(k string, v any) map[string]any {
			m := map[string]any{"direction": "outbound", "phone": "0211234567", "unique_id": "9.1", "state": "ringing"}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		e.expectErrors(t, []errorCase{
			{"no direction", "POST", "/call-events", valid("direction", nil), 400, "direction"},
			{"unknown direction", "POST", "/call-events", valid("direction", "sideways"), 400, "direction"},
			{"no state", "POST", "/call-events", valid("state", nil), 400, "state"},
			{"unknown state", "POST", "/call-events", valid("state", "held"), 400, "state"},
			{"no unique id", "POST", "/call-events", valid("unique_id", nil), 400, "unique_id"},
			{"empty unique id", "POST", "/call-events", valid("unique_id", ""), 400, "unique_id"},
			{"unique id with a space", "POST", "/call-events", valid("unique_id", "1 2"), 400, "unique_id"},
			{"long unique id", "POST", "/call-events", valid("unique_id", strings.Repeat("1", 65)), 400, "unique_id"},
			{"fractional unique id", "POST", "/call-events", valid("unique_id", 1608743891.1344), 400, "unique_id"},
			{"no phone", "POST", "/call-events", valid("phone", nil), 400, "phone"},
			{"letters in the phone", "POST", "/call-events", valid("phone", "call me"), 400, "phone"},
			{"long agent", "POST", "/call-events", valid("agent", strings.Repeat("a", 129)), 400, "agent"},
			{"call_center not a boolean", "POST", "/call-events", valid("call_center", "yes"), 400, "call_center"},
			{"too many variables", "POST", "/call-events", valid("variables", long), 400, "variables"},
			{"long variable", "POST", "/call-events", valid("variables", map[string]any{"x": strings.Repeat("v", 1001)}), 400, "variables"},
			{"long variable name", "POST", "/call-events", valid("variables", map[string]any{strings.Repeat("n", 65): "v"}), 400, "call variable name"},
			{"variable not a scalar", "POST", "/call-events", valid("variables", map[string]any{"x": []string{"v"}}), 400, "variables"},
			{"unknown field", "POST", "/call-events", valid("callId", "9.1"), 400, "callId"},
			{"not JSON", "POST", "/call-events", `{"direction":`, 400, ""},
		})
	})
}

// TestCallEventKeys: an events key publishes and can do nothing else; no key, an unknown or a revoked key
// answers 401.
func TestCallEventKeys(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := eventEnv(t, kind, nil, webhooks.Config{})
		eventsKey := e.newKey(t, "crm", platform.ScopeEvents)
		body := map[string]any{"direction": "inbound", "phone": "0211234567", "unique_id": "1.1", "state": "ringing"}
		if r := e.callWith(t, apitest.Headers("X-API-Key", eventsKey), "POST", "/call-events", body); r.Status != http.StatusAccepted {
			t.Fatalf("events key: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{"/webhooks", "/webhooks/1/deliveries", "/api-keys"} {
			expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", eventsKey), "GET", path, nil), 403, "not permitted")
		}
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", eventsKey), "POST", "/webhooks",
			map[string]any{"url": "https://example.com/hook"}), 403, "not permitted")
		expectProblem(t, e.callWith(t, http.Header{}, "POST", "/call-events", body), 401, "credentials")
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", "sb_"+strings.Repeat("x", 43)), "POST", "/call-events", body), 401, "credentials")
		var keys []apiKey
		e.call(t, "GET", "/api-keys", nil).JSON(t, &keys)
		e.call(t, "DELETE", "/api-keys/"+itoa(keyID(t, keys, "crm")), nil)
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", eventsKey), "POST", "/call-events", body), 401, "credentials")
		// An ICTCore admin's token opens it too.
		tok := e.ictcoreToken(t, "admin", apitest.AdminPassword)
		body["state"] = "answered"
		if r := e.callWith(t, apitest.Headers("Authorization", "Bearer "+tok), "POST", "/call-events", body); r.Status != http.StatusAccepted {
			t.Fatalf("ICTCore admin token: %d %s", r.Status, r.Body)
		}
	})
}

// TestCallEventConcurrentDuplicates: the same event posted by many clients at once is stored once, runs
// its sinks once (one webhook delivery queued) and is heard once; every client gets the same answer.
func TestCallEventConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		h := newHeard()
		e := eventEnv(t, kind, h, webhooks.Config{})
		// A subscription whose endpoint never answers 2xx, so its job stays to be counted.
		hook := e.createWebhook(t, map[string]any{"url": "http://127.0.0.1:1/never", "states": []string{"ringing"}})
		const clients = 8
		body := map[string]any{"direction": "outbound", "phone": "0211234567", "unique_id": "77.1", "state": "ringing"}
		answers := make([]string, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				r := e.call(t, "POST", "/call-events", body)
				if r.Status != http.StatusAccepted {
					t.Errorf("client %d: %d %s", i, r.Status, r.Body)
				}
				answers[i] = string(r.Body)
			})
		}
		wg.Wait()
		for i := range answers {
			if answers[i] != answers[0] {
				t.Fatalf("answers differ:\n%s\n%s", answers[0], answers[i])
			}
		}
		var stored int64
		e.DB.Raw("SELECT count(*) FROM call_events WHERE unique_id = '77.1'").Scan(&stored)
		if stored != 1 {
			t.Fatalf("%d rows for one event", stored)
		}
		if n := deliveryJobs(t, e, hook.ID); n != 1 {
			t.Fatalf("%d webhook deliveries queued for one event, want 1", n)
		}
		e.post(t, map[string]any{"direction": "outbound", "phone": "0211234567", "unique_id": "77.1", "state": "ended"})
		h.next(t)
		h.next(t)
		if ids := h.ids(); ids != "77.1/ringing 77.1/ended" {
			t.Fatalf("heard %s", ids)
		}
	})
}

// deliveryJobs counts the webhook deliveries queued for a subscription: the jobs the event's transaction
// inserted, whatever became of them since.
func deliveryJobs(t *testing.T, e *env, webhookID int64) int { return len(jobStates(t, e, webhookID)) }

// jobStates answers the River states of a subscription's delivery jobs, in id order.
func jobStates(t *testing.T, e *env, webhookID int64) []string {
	t.Helper()
	args := "json(args)" // River keeps SQLite's in the binary JSONB form
	if models.IsPostgres(e.DB) {
		args = "args::text"
	}
	rows, err := e.DB.Raw("SELECT state, " + args + " FROM river_job WHERE kind = 'webhook_deliver' ORDER BY id").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var states []string
	for rows.Next() {
		var (
			state string
			raw   []byte
		)
		if err := rows.Scan(&state, &raw); err != nil {
			t.Fatal(err)
		}
		var args struct {
			WebhookID int64 `json:"webhook_id"`
		}
		if err := json.Unmarshal(raw, &args); err != nil {
			t.Fatalf("job args %s: %v", raw, err)
		}
		if args.WebhookID == webhookID {
			states = append(states, state)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states
}

// receivedAt reads an event's received_at: compared as text, "…49.3Z" (trailing zeros dropped) sorts after
// "…49.331Z", which made TestPostCallEvent fail when the first event's milliseconds ended in zeros.
func receivedAt(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("received_at %q: %v", s, err)
	}
	return at
}
