package ucontact_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/models/events"
	mu "switchboard/models/ucontact"
)

// TestAgentCall: a two-step call answers a GUID, is recorded, and publishes one outbound ringing event
// (phone = destination, agent = the agent's name, Source ucontact) whose unique id is the call's
// `<seconds>.<id>`, with the GUID among its variables; the campaign's caller id fills in a missing one.
func TestAgentCall(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Vcisneros", mu.RoleAgent, "pw", "1997")
		e.addCampaign(t, "Salida->", mu.ChannelTelephony, "24000000")
		e.addCampaign(t, "SMS->", mu.ChannelSMS, "")
		key := e.agentLogin(t, "Vcisneros", "pw")

		r := e.post(t, "Agents/AgentCall", key, url.Values{"agent": {"Vcisneros"}, "destination": {"099123456"}, "outqueue": {"Salida->"},
			"tech": {""}, "context": {"agentes"}})
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("AgentCall: %d %s", r.Status, r.Body)
		}
		guid := string(r.Body)
		var c mu.Call
		if err := e.DB.Where("guid = ?", guid).Take(&c).Error; err != nil {
			t.Fatalf("call %s not recorded: %v", guid, err)
		}
		if c.Origin != mu.OriginAgentCall || c.Status != mu.CallRinging || c.Agent != "Vcisneros" || c.Phone != "1997" || c.Tech != "SIP" ||
			c.Destination != "099123456" || c.Campaign != "Salida->" || c.CallerID != "24000000" {
			t.Fatalf("call recorded as %+v", c)
		}
		evs := e.events.of(c.UniqueID())
		if c.UniqueID() != fmt.Sprintf("%d.%d", c.CreatedAt, c.ID) || len(evs) != 1 {
			t.Fatalf("events of %s: %+v", c.UniqueID(), evs)
		}
		ev := evs[0]
		if ev.Direction != events.Outbound || ev.State != events.Ringing || ev.Phone != "099123456" || ev.Agent != "Vcisneros" ||
			ev.Source != "ucontact" || ev.Variables["guid"] != guid || ev.Variables["campaign"] != "Salida->" || ev.Variables["callerid"] != "24000000" {
			t.Fatalf("event %+v", ev)
		}

		n := e.events.count()
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			msg    string
		}{
			{"unknown agent", url.Values{"agent": {"Nobody"}, "destination": {"1"}}, http.StatusForbidden, "Nobody"},
			{"unknown campaign", url.Values{"agent": {"Vcisneros"}, "destination": {"1"}, "outqueue": {"Nope->"}}, http.StatusNotFound, "Nope->"},
			{"an SMS campaign", url.Values{"agent": {"Vcisneros"}, "destination": {"1"}, "outqueue": {"SMS->"}}, http.StatusNotFound, "SMS->"},
			{"no destination", url.Values{"agent": {"Vcisneros"}}, http.StatusBadRequest, "destination"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, e.post(t, "Agents/AgentCall", key, tc.form), tc.status, "0", tc.msg)
			})
		}
		if e.events.count() != n {
			t.Fatal("a refused AgentCall published an event")
		}
		// A field the service does not take is ignored, not refused.
		if r := e.post(t, "Agents/AgentCall", key, url.Values{"agent": {"Vcisneros"}, "destination": {"1"}, "color": {"red"}}); r.Status != http.StatusOK {
			t.Fatalf("an extra field: %d %s", r.Status, r.Body)
		}

		// A supervisor calls for an unknown agent: 404. A publisher that fails makes the call fail.
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		sup := e.login(t, "Admin", "pw-admin")
		expect(t, e.post(t, "Agents/AgentCall", sup, url.Values{"agent": {"Nobody"}, "destination": {"1"}}), http.StatusNotFound, "0", "Nobody")
		e.events.mu.Lock()
		e.events.fail = errors.New("bus down")
		e.events.mu.Unlock()
		expect(t, e.post(t, "Agents/AgentCall", sup, url.Values{"agent": {"Vcisneros"}, "destination": {"1"}}), http.StatusInternalServerError, "0", "Internal")
	})
}

// dispositionForm is the vendor's example body, all keys sent (d2 twice, as the notes show it).
const dispositionForm = "campaign=campana-%%3E&agent=Vcisneros&callerid=1234567890&guid=%s&l1=Tipificacion1&l2=Sub&l3=&d1=first&d2=one&d2=two&comment=Hello&schedule=&camptoreschedule=&tag=vip"

type disposition struct {
	ID               int64   `json:"id"`
	Date             string  `json:"date"`
	Campaign         string  `json:"campaign"`
	Agent            string  `json:"agent"`
	Callerid         string  `json:"callerid"`
	GUID             string  `json:"guid"`
	UniqueID         *string `json:"uniqueId"`
	L1, L2, L3       string
	D1, D2           string
	Comment          string `json:"comment"`
	Schedule         string `json:"schedule"`
	Camptoreschedule string `json:"camptoreschedule"`
	Tag              string `json:"tag"`
}

// TestDispositions: DispositionCall stores every documented field (the first of a repeated key), linked to
// the call its guid names; the list answers them in id order, filtered, paged by offset and keyset with a
// Link, counted on request; a reschedule queues a dialer call in the same transaction, or nothing at all.
func TestDispositions(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Vcisneros", mu.RoleAgent, "pw", "")
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		e.addCampaign(t, "Redial->", mu.ChannelTelephony, "24000000")
		agent := e.agentLogin(t, "Vcisneros", "pw")
		sup := e.login(t, "Admin", "pw-admin")
		guid := string(e.post(t, "Agents/AgentCall", agent, url.Values{"agent": {"Vcisneros"}, "destination": {"099123456"}}).Body)

		send := func(key, body string) *apitest.Response {
			return e.Do(t, apitest.Request{Method: "POST", Path: base + "api/DispositionCall", Body: strings.NewReader(body),
				Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8", "Authorization", "Basic "+key)})
		}
		expect(t, send(agent, fmt.Sprintf(dispositionForm, guid)), http.StatusOK, "1", "")
		expect(t, send(agent, fmt.Sprintf(dispositionForm, "3123-3123-3123-312-3123")), http.StatusOK, "1", "")
		expect(t, send(agent, "l1=Only"), http.StatusOK, "1", "") // the old client: only what it has
		expect(t, send(agent, "l1=&campaign=x"), http.StatusBadRequest, "0", "l1")
		expect(t, send(agent, "campaign=x"), http.StatusBadRequest, "0", "l1")
		expect(t, send(agent, "l1=x&schedule=tomorrow"), http.StatusBadRequest, "0", "schedule")

		r := e.get(t, "api/Dispositions?count=true", sup)
		var all []disposition
		r.JSON(t, &all)
		if r.Status != http.StatusOK || len(all) != 3 || r.Header.Get("X-Total-Count") != "3" || r.Header.Get("Link") != "" {
			t.Fatalf("list: %d %s %v", r.Status, r.Body, r.Header)
		}
		var c mu.Call
		if err := e.DB.Where("guid = ?", guid).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		d := all[0]
		if d.Campaign != "campana->" || d.Agent != "Vcisneros" || d.Callerid != "1234567890" || d.GUID != guid || d.L1 != "Tipificacion1" ||
			d.L2 != "Sub" || d.L3 != "" || d.D1 != "first" || d.D2 != "one" || d.Comment != "Hello" || d.Tag != "vip" ||
			d.UniqueID == nil || *d.UniqueID != c.UniqueID() {
			t.Fatalf("first disposition %+v", d)
		}
		if all[1].UniqueID != nil || all[1].GUID != "3123-3123-3123-312-3123" || all[2].L1 != "Only" || all[2].Campaign != "" {
			t.Fatalf("others: %+v", all[1:])
		}
		if r := e.get(t, "api/Dispositions", sup); r.Header.Get("X-Total-Count") != "" {
			t.Fatal("a count that was not asked for")
		}
		// Filters, exact and combined.
		for _, tc := range []struct {
			query string
			ids   []int64
		}{
			{"guid=" + guid, []int64{all[0].ID}}, {"campaign=campana-%3E", []int64{all[0].ID, all[1].ID}},
			{"campaign=campana-%3E&guid=3123-3123-3123-312-3123", []int64{all[1].ID}}, {"agent=Vcisneros&tag=x", []int64{all[0].ID, all[1].ID}},
			{"agent=Other", nil}, {"campaign=campana", nil},
		} {
			r := e.get(t, "api/Dispositions?"+tc.query, sup)
			var got []disposition
			r.JSON(t, &got)
			if len(got) != len(tc.ids) {
				t.Fatalf("?%s: %s", tc.query, r.Body)
			}
			for i, g := range got {
				if g.ID != tc.ids[i] {
					t.Fatalf("?%s: %s", tc.query, r.Body)
				}
			}
		}
		// Pages: by offset, then by keyset; the Link names the next page, none after the last.
		r = e.get(t, "api/Dispositions?limit=2", sup)
		var page []disposition
		r.JSON(t, &page)
		link := r.Header.Get("Link")
		if len(page) != 2 || !strings.Contains(link, "offset=2") || !strings.HasSuffix(link, `rel="next"`) {
			t.Fatalf("page 1: %s %q", r.Body, link)
		}
		next := strings.TrimPrefix(link[1:strings.Index(link, ">")], "/ucontact/Integra/resources/")
		r = e.get(t, next, sup)
		r.JSON(t, &page)
		if len(page) != 1 || page[0].ID != all[2].ID || r.Header.Get("Link") != "" {
			t.Fatalf("page 2 (%s): %s %v", next, r.Body, r.Header)
		}
		r = e.get(t, "api/Dispositions?limit=1&after="+strconv.FormatInt(all[0].ID, 10), sup)
		r.JSON(t, &page)
		if len(page) != 1 || page[0].ID != all[1].ID || !strings.Contains(r.Header.Get("Link"), "after="+strconv.FormatInt(all[1].ID, 10)) {
			t.Fatalf("keyset page: %s %v", r.Body, r.Header)
		}
		expect(t, e.get(t, "api/Dispositions?limit=0", sup), http.StatusBadRequest, "0", "limit")

		// A reschedule: the disposition and its dialer call, in Redial-> at the schedule.
		before := e.count(t, &mu.Disposition{}, "")
		expect(t, send(agent, "l1=Callback&callerid=099765432&campaign=Inbound&camptoreschedule=Redial-%3E&schedule=2031-01-02+03%3A04%3A05"),
			http.StatusOK, "1", "")
		var rc mu.Call
		if err := e.DB.Where("origin = ?", mu.OriginReschedule).Take(&rc).Error; err != nil {
			t.Fatal(err)
		}
		want := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC).Unix()
		if rc.Destination != "099765432" || rc.Campaign != "Redial->" || rc.CallDate != want || rc.Status != mu.CallPending || rc.CallerID != "24000000" {
			t.Fatalf("reschedule %+v", rc)
		}
		// An unknown reschedule campaign: 404, and neither the disposition nor a call is stored.
		calls := e.count(t, &mu.Call{}, "")
		expect(t, send(agent, "l1=Callback&callerid=099765432&campaign=Inbound&schedule=2031-01-02+03%3A04%3A05"), http.StatusNotFound, "0", "Inbound")
		if e.count(t, &mu.Disposition{}, "") != before+1 || e.count(t, &mu.Call{}, "") != calls {
			t.Fatal("a refused reschedule stored something")
		}
	})
}
