package accolades_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/handlers/accolades"
	"switchboard/models/events"
	"switchboard/realtime"

	model "switchboard/models/accolades"
)

// TestSchemasRefuse: the contract's schemas can fail, and accept the document's own examples.
func TestSchemasRefuse(t *testing.T) {
	t.Parallel()
	s := apitest.AsyncAPI(t, "accolades-crm")
	for name, bad := range map[string]string{
		"authRequest":      `{"type":"authRequest"}`,
		"authSucces":       `{"type":"authSuccess","version":"1.1.0"}`,
		"authFailed":       `{"type":"authFailed","reason":"IP_MISMATCH"}`,
		"configuration":    `{"type":"configuration","account":{"id":15,"data":""},"phone":{"id":"27","data":""},"agent":{"id":"321","data":""}}`,
		"version":          `{"type":"version","value":"2.0.0"}`,
		"incomingCall":     `{"type":"incomingCall","phoneNumber":"0211234567","uniqueId":"1608743891.1344"}`,
		"outgoingCall":     `{"type":"outgoingCall","phoneNumber":"0211234567","uniqueId":"abc","callCenter":"no"}`,
		"connectionClosed": `{"type":"closed"}`,
		"error":            `{"type":"error","reason":"OOPS"}`,
	} {
		if err := s.Check(name, []byte(bad)); err == nil {
			t.Errorf("%s: %s passed its schema", name, bad)
		}
	}
	for name, good := range map[string]string{
		"authRequest":  `{"type":"authRequest", "idCrm":"f8cb549544"}`,
		"authSucces":   `{"type":"authSucces", "version":"1.1.0"}`,
		"version":      `{"type":"version", "value":"1.1.0"}`,
		"incomingCall": `{"type":"incomingCall","phoneNumber":"0211234567","uniqueId":"1608743891.1344","callCenter":"yes"}`,
	} {
		if err := s.Check(name, []byte(good)); err != nil {
			t.Errorf("the document's %s fails: %v", name, err)
		}
	}
}

// TestAuthAndConfiguration walks a CRM session as the document lists it: version (before and after
// authentication), configuration refused before authentication, authRequest, configuration, and a second
// authRequest refused.
func TestAuthAndConfiguration(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		c := n.connect(t)
		c.send(t, "versionRequest", map[string]string{"type": "version"})
		if v := c.read(t, "version"); v["value"] != "1.1.0" {
			t.Fatalf("version: %v", v)
		}
		c.send(t, "configurationRequest", map[string]string{"type": "configuration"})
		if e := c.read(t, "error"); e["reason"] != "NOT_AUTHENTICATED" {
			t.Fatalf("configuration before auth: %v", e)
		}
		c.auth(t, s.ana.CrmID)
		c.send(t, "configurationRequest", map[string]string{"type": "configuration"})
		conf := c.read(t, "configuration")
		want := map[string]map[string]any{
			"account": {"id": "1001", "data": "INFO_ACCOUNT"},
			"phone":   {"id": "27", "data": "INFO_PHONE"},
			"agent":   {"id": strconv.FormatInt(s.ana.ID, 10), "data": "INFO_AGENT"},
		}
		for k, w := range want {
			got := conf[k].(map[string]any)
			if got["id"] != w["id"] || got["data"] != w["data"] {
				t.Errorf("configuration %s: %v, want %v", k, got, w)
			}
		}
		c.send(t, "authRequest", map[string]string{"type": "authRequest", "idCrm": s.ana.CrmID})
		if e := c.read(t, "error"); e["reason"] != "ALREADY_AUTHENTICATED" {
			t.Fatalf("second authRequest: %v", e)
		}
		c.quiet(t)

		// An agent without texts answers "" for them (all three objects present).
		b := n.connect(t)
		b.auth(t, s.bob.CrmID)
		b.send(t, "configurationRequest", map[string]string{"type": "configuration"})
		conf = b.read(t, "configuration")
		if p := conf["phone"].(map[string]any); p["id"] != "28" || p["data"] != "" {
			t.Fatalf("bob's phone: %v", p)
		}
	})
}

// TestAuthFailures: each authFailed reason, then close code 4001 with the reason; one connection per CRM id,
// and the CRM id is free again once its connection has ended.
func TestAuthFailures(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		ctx := context.Background()
		n.connect(t).authFails(t, "f8cb549544", "ID_NOT_FOUND")

		// Allow-lists: the test client connects from 127.0.0.1.
		far, err := model.CreateAgent(ctx, n.DB, s.account.ID, model.AgentInput{Name: "Far", DeviceID: "41", AllowedIPs: []string{"203.0.113.0/24", "::1"}})
		if err != nil {
			t.Fatal(err)
		}
		n.connect(t).authFails(t, far.CrmID, "IP_MISSMATCH")
		near, err := model.CreateAgent(ctx, n.DB, s.account.ID, model.AgentInput{Name: "Near", DeviceID: "42", AllowedIPs: []string{"203.0.113.7", "127.0.0.0/8"}})
		if err != nil {
			t.Fatal(err)
		}
		n.connect(t).auth(t, near.CrmID)

		// One live connection per CRM id; the first keeps working.
		first := n.connect(t)
		first.auth(t, s.ana.CrmID)
		n.connect(t).authFails(t, s.ana.CrmID, "CONNECTION_EXISTS")
		first.quiet(t)
		if node, _ := model.Holder(ctx, n.DB, s.ana.CrmID); node == "" {
			t.Fatal("an authenticated CRM id holds no lease")
		}
		// Once the first has gone, the CRM id authenticates again.
		_ = first.c.Close(websocket.StatusNormalClosure, "")
		eventually(t, "lease released", func() bool { node, _ := model.Holder(ctx, n.DB, s.ana.CrmID); return node == "" })
		n.connect(t).auth(t, s.ana.CrmID)
	})
}

// TestGarbage: frames the server cannot accept get error and leave the socket open; binary frames are
// ignored; fields the document does not show are ignored; a frame over the read limit closes with 1009.
func TestGarbage(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		c := n.connect(t)
		for raw, reason := range map[string]string{
			`not json`:                          "INVALID_MESSAGE",
			`[1,2]`:                             "INVALID_MESSAGE",
			`null`:                              "INVALID_MESSAGE",
			`{}`:                                "INVALID_MESSAGE",
			`{"type":5}`:                        "INVALID_MESSAGE",
			`{"type":"version"} trailing`:       "INVALID_MESSAGE",
			`{"type":"authRequest"}`:            "INVALID_MESSAGE",
			`{"type":"authRequest","idCrm":15}`: "INVALID_MESSAGE",
			`{"type":"authRequest","idCrm":""}`: "INVALID_MESSAGE",
			`{"type":"authRequest","idCrm":"` + strings.Repeat("a", 65) + `"}`: "INVALID_MESSAGE",
			`{"type":"authSucces","version":"1.1.0"}`:                          "UNKNOWN_TYPE",
			`{"type":"hello"}`: "UNKNOWN_TYPE",
		} {
			c.sendRaw(t, []byte(raw))
			if e := c.read(t, "error"); e["reason"] != reason {
				t.Fatalf("%s: %v, want %s", raw, e, reason)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.c.Write(ctx, websocket.MessageBinary, []byte(`{"type":"version"}`)); err != nil {
			t.Fatal(err)
		}
		c.sendRaw(t, []byte(`{"type":"authRequest","idCrm":"`+s.ana.CrmID+`","extra":{"any":1}}`))
		c.read(t, "authSucces") // the binary frame got no answer, the extra field no error
		c.sendRaw(t, []byte(`{"type":"configuration","agent":"x"}`))
		c.read(t, "configuration")

		// A frame over 4 KiB (the document's largest message is under 100 bytes) ends the connection.
		c.sendRaw(t, []byte(`{"type":"version","pad":"`+strings.Repeat("x", 5000)+`"}`))
		if code, _ := c.closed(t); code != websocket.StatusMessageTooBig {
			t.Fatalf("huge frame: close %d, want 1009", code)
		}
	})
}

// TestSilence: a connection that does not authenticate in time is closed with 4001 AUTH_TIMEOUT; an
// authenticated one may stay silent.
func TestSilence(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{AuthTimeout: 300 * time.Millisecond})
		s := n.seed(t)
		silent := n.connect(t)
		authed := n.connect(t)
		authed.auth(t, s.ana.CrmID)
		if code, why := silent.closed(t); code != accolades.CloseAuth || why != "AUTH_TIMEOUT" {
			t.Fatalf("silent: %d %q", code, why)
		}
		time.Sleep(300 * time.Millisecond)
		authed.quiet(t)
	})
}

// TestCallEvents: a ringing event pushes incomingCall or outgoingCall to the connection of its agent only,
// once; answered and ended push nothing; uniqueId and callCenter as R29 says.
func TestCallEvents(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		ana, bob := n.connect(t), n.connect(t)
		ana.auth(t, s.ana.CrmID)
		bob.auth(t, s.bob.CrmID)
		pub := func(e events.CallEvent) {
			if _, _, err := n.pub.Publish(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		pub(events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: "0211234567", Agent: s.ana.CrmID, CallCenter: true, State: events.Ringing})
		m := ana.read(t, "incomingCall")
		if m["type"] != "incomingCall" || m["phoneNumber"] != "0211234567" || m["uniqueId"] != "1608743891.1344" || m["callCenter"] != "yes" {
			t.Fatalf("incomingCall: %v", m)
		}
		bob.quiet(t) // a CRM gets only its own agent's calls

		// The same call's later states, and the same event again, push nothing.
		pub(events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: "0211234567", Agent: s.ana.CrmID, State: events.Answered})
		pub(events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: "0211234567", Agent: s.ana.CrmID, State: events.Ended})
		pub(events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: "0211234567", Agent: s.ana.CrmID, State: events.Ringing})
		ana.quiet(t)

		// Outbound, with a uContact GUID for unique id: mapped to number.number, the same every time.
		guid := "8f2d3c1e-5b6a-4c7d-9e8f-0a1b2c3d4e5f"
		pub(events.CallEvent{UniqueID: guid, Direction: events.Outbound, Phone: "+40211234567", Agent: s.bob.CrmID, State: events.Ringing})
		m = bob.read(t, "outgoingCall")
		if m["type"] != "outgoingCall" || m["uniqueId"] != model.CallID(guid) || m["callCenter"] != "no" || m["phoneNumber"] != "+40211234567" {
			t.Fatalf("outgoingCall: %v", m)
		}
		if id := model.CallID(guid); id == guid || !strings.Contains(id, ".") || model.CallID("1608743891.1344") != "1608743891.1344" {
			t.Fatalf("CallID %q", id)
		}
		ana.quiet(t)

		// No agent, an agent with no connection, another account's agent: nobody here hears of them.
		pub(events.CallEvent{UniqueID: "1.1", Direction: events.Inbound, Phone: "1", State: events.Ringing})
		pub(events.CallEvent{UniqueID: "1.2", Direction: events.Inbound, Phone: "1", Agent: s.otherAgent.CrmID, State: events.Ringing})
		pub(events.CallEvent{UniqueID: "1.3", Direction: events.Inbound, Phone: "1", Agent: "unknown", State: events.Ringing})
		ana.quiet(t)
		bob.quiet(t)

		// An unauthenticated connection hears nothing either.
		anon := n.connect(t)
		pub(events.CallEvent{UniqueID: "1.4", Direction: events.Inbound, Phone: "1", Agent: s.ana.CrmID, State: events.Ringing})
		ana.read(t, "incomingCall")
		anon.quiet(t)
	})
}

// TestSlowCRM: a CRM that never reads is closed with 1013 once its queue is full; Deliver never waits for
// it, and another CRM gets its call meanwhile.
func TestSlowCRM(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{Hub: realtime.Options{SendQueue: 4}})
		s := n.seed(t)
		slow, fast := n.connect(t), n.connect(t)
		slow.auth(t, s.ana.CrmID)
		fast.auth(t, s.bob.CrmID)
		start := time.Now()
		for i := range 20000 {
			n.h.Deliver(events.CallEvent{UniqueID: "1700000000." + strconv.Itoa(i), Direction: events.Inbound, Phone: "0211234567",
				Agent: s.ana.CrmID, State: events.Ringing})
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("20000 deliveries to a CRM that does not read took %v", d)
		}
		n.h.Deliver(events.CallEvent{UniqueID: "1700000001.1", Direction: events.Inbound, Phone: "1", Agent: s.bob.CrmID, State: events.Ringing})
		fast.read(t, "incomingCall")
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, msg, err := slow.c.Read(ctx)
			cancel()
			if err != nil {
				if code := websocket.CloseStatus(err); code != realtime.CloseSlow {
					t.Fatalf("slow CRM: %v, want close 1013", err)
				}
				break
			}
			if err := slow.s.Check("incomingCall", msg); err != nil {
				t.Fatalf("slow CRM got %s: %v", msg, err)
			}
		}
		// Its CRM id is free again.
		eventually(t, "slow CRM's lease released", func() bool { node, _ := model.Holder(context.Background(), n.DB, s.ana.CrmID); return node == "" })
	})
}

// TestNoPong: a CRM that does not answer pings is closed and its CRM id freed (ambiguity 43).
func TestNoPong(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{Hub: realtime.Options{PingInterval: 100 * time.Millisecond, PongTimeout: 200 * time.Millisecond}})
		s := n.seed(t)
		dead := n.connect(t)
		dead.auth(t, s.ana.CrmID) // and then it never reads again, so it never answers a ping
		eventually(t, "dead CRM's lease released", func() bool { node, _ := model.Holder(context.Background(), n.DB, s.ana.CrmID); return node == "" })
		n.connect(t).auth(t, s.ana.CrmID)
	})
}

// TestAgentDeleted: deleting an agent ends its connection: connectionClosed, then 4002 AGENT_DELETED.
func TestAgentDeleted(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{LeaseRenew: 100 * time.Millisecond})
		s := n.seed(t)
		c, other := n.connect(t), n.connect(t)
		c.auth(t, s.ana.CrmID)
		other.auth(t, s.bob.CrmID)
		if err := model.DeleteAgent(context.Background(), n.DB, s.account.ID, s.ana.ID); err != nil {
			t.Fatal(err)
		}
		c.read(t, "connectionClosed")
		if code, why := c.closed(t); code != accolades.CloseGone || why != "AGENT_DELETED" {
			t.Fatalf("closed %d %q, want 4002 AGENT_DELETED", code, why)
		}
		time.Sleep(300 * time.Millisecond) // a few heartbeats: bob's lease is renewed, bob stays
		other.quiet(t)
		n.connect(t).authFails(t, s.ana.CrmID, "ID_NOT_FOUND")
	})
}

// TestAuthDuringRenewal: a renewal that read the node's leases while a CRM's lease was being taken does not
// end that connection. The store's callbacks line the race up: the lease's insert waits until a renewal
// that began after it has read the leases, and that renewal waits until the CRM holds authSucces.
func TestAuthDuringRenewal(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{LeaseRenew: 10 * time.Millisecond})
		s := n.seed(t)
		n.connect(t).auth(t, s.bob.CrmID) // the heartbeat runs from here on
		var (
			armed     atomic.Bool
			renewal   atomic.Int32 // 1: a renewal began after the insert was held; 2: it read the leases
			inserting = make(chan struct{})
			selected  = make(chan struct{})
			answered  = make(chan struct{})
		)
		leases := func(d *gorm.DB) bool { return d.Statement.Table == "accolades_leases" }
		cb := n.DB.Callback()
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(cb.Raw().Before("gorm:raw").Register("test:lease-insert", func(d *gorm.DB) {
			if armed.CompareAndSwap(true, false) && strings.Contains(d.Statement.SQL.String(), "INSERT INTO accolades_leases") {
				close(inserting)
				<-selected
			}
		}))
		must(cb.Update().After("gorm:update").Register("test:renew-update", func(d *gorm.DB) {
			select {
			case <-inserting:
				if leases(d) {
					renewal.CompareAndSwap(0, 1)
				}
			default:
			}
		}))
		must(cb.Query().After("gorm:query").Register("test:renew-select", func(d *gorm.DB) {
			if leases(d) && renewal.CompareAndSwap(1, 2) {
				close(selected)
				<-answered
			}
		}))
		armed.Store(true)
		ana := n.connect(t)
		ana.auth(t, s.ana.CrmID)
		close(answered)
		time.Sleep(100 * time.Millisecond) // the racing renewal's verdict, and a few more renewals
		ana.quiet(t)
	})
}

// TestShutdown: when the node stops (Stop, as app.Service.Stop calls it, or its context ending), every CRM
// gets connectionClosed and 1001, and the node's leases are released so the CRMs may reconnect elsewhere at
// once.
func TestShutdown(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		for _, how := range []string{"Stop", "context"} {
			t.Run(how, func(t *testing.T) {
				n := newNode(t, kind, nil, accolades.Config{})
				s := n.seed(t)
				c, anon := n.connect(t), n.connect(t)
				c.auth(t, s.ana.CrmID)
				anon.quiet(t)
				stopped := make(chan struct{})
				if how == "Stop" {
					go func() { // Stop waits for the CRMs to answer the close, so they read meanwhile
						defer close(stopped)
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						n.h.Stop(ctx)
					}()
				} else {
					close(stopped)
					n.cancel()
				}
				for _, x := range []*crm{c, anon} {
					x.read(t, "connectionClosed")
					if code, _ := x.closed(t); code != websocket.StatusGoingAway {
						t.Fatalf("shutdown: close %d, want 1001", code)
					}
				}
				<-stopped
				if how == "Stop" {
					if node, _ := model.Holder(context.Background(), n.DB, s.ana.CrmID); node != "" {
						t.Fatalf("lease still held by %s after Stop", node)
					}
				}
				eventually(t, "lease released", func() bool { node, _ := model.Holder(context.Background(), n.DB, s.ana.CrmID); return node == "" })
				// A connection arriving during the shutdown is told at once.
				late := n.connect(t)
				late.read(t, "connectionClosed")
				if code, _ := late.closed(t); code != websocket.StatusGoingAway {
					t.Fatalf("late: close %d", code)
				}
			})
		}
	})
}

// TestTwoNodes: one connection per CRM id across nodes of one store (CONNECTION_EXISTS from the other
// node), freed when it ends; a node that stopped renewing loses the CRM id to another after the lease's
// TTL, and then closes its own connection with 4002 LEASE_LOST.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		a := newNode(t, kind, nil, accolades.Config{})
		b := newNode(t, kind, a.Env, accolades.Config{})
		s := a.seed(t)
		onA := a.connect(t)
		onA.auth(t, s.ana.CrmID)
		b.connect(t).authFails(t, s.ana.CrmID, "CONNECTION_EXISTS")
		// Each node pushes only to what it holds: an event delivered on both reaches the CRM once.
		e := events.CallEvent{UniqueID: "5.5", Direction: events.Inbound, Phone: "1", Agent: s.ana.CrmID, State: events.Ringing}
		a.h.Deliver(e)
		b.h.Deliver(e)
		onA.read(t, "incomingCall")
		onA.quiet(t)
		_ = onA.c.Close(websocket.StatusNormalClosure, "")
		eventually(t, "lease released", func() bool { node, _ := model.Holder(context.Background(), a.DB, s.ana.CrmID); return node == "" })
		b.connect(t).auth(t, s.bob.CrmID)
		onB := b.connect(t)
		onB.auth(t, s.ana.CrmID)
		b.h.Deliver(events.CallEvent{UniqueID: "5.6", Direction: events.Inbound, Phone: "1", Agent: s.ana.CrmID, State: events.Ringing})
		onB.read(t, "incomingCall")

		// A node whose renewals stop (c: TTL 1 s, renewing every 2 s) loses the CRM id to d after the TTL.
		c := newNode(t, kind, a.Env, accolades.Config{LeaseTTL: time.Second, LeaseRenew: 2 * time.Second})
		d := newNode(t, kind, a.Env, accolades.Config{})
		onC := c.connect(t)
		onC.auth(t, s.otherAgent.CrmID)
		d.connect(t).authFails(t, s.otherAgent.CrmID, "CONNECTION_EXISTS")
		time.Sleep(1100 * time.Millisecond)
		d.connect(t).auth(t, s.otherAgent.CrmID)
		onC.read(t, "connectionClosed")
		if code, why := onC.closed(t); code != accolades.CloseGone || why != "LEASE_LOST" {
			t.Fatalf("closed %d %q, want 4002 LEASE_LOST", code, why)
		}
	})
}
