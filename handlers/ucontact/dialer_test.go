package ucontact_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/gateway"
	"switchboard/models/events"
	"switchboard/models/platform"
	mu "switchboard/models/ucontact"
)

// globalDNC puts numbers on a global do-not-call list of the platform API.
func (e *env) globalDNC(t *testing.T, numbers ...string) {
	t.Helper()
	ctx := context.Background()
	name, global := "registry", true
	l, err := platform.CreateList(ctx, e.DB, platform.ListFields{Name: &name, Global: &global})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := platform.AddNumbers(ctx, e.DB, region, l.ID, numbers); err != nil {
		t.Fatal(err)
	}
}

// TestDialerTask: a record is stored with its job and dialled at once through the simulator; an answered
// call publishes answered and ended (agent = the record's agent, its data as variables); a number on a
// global do-not-call list is not dialled and publishes nothing; bad records are refused, and nothing is
// stored for them.
func TestDialerTask(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw", "")
		e.addCampaign(t, "POWER<-", mu.ChannelTelephony, "24000000")
		e.addCampaign(t, "SMS->", mu.ChannelSMS, "")
		e.globalDNC(t, "+923001234567")
		key := e.login(t, "Admin", "pw")

		task := `{"calldate":null,"campaign":"POWER<-","destination":"099123456","alternatives":"","agent":"9999","data":"idcustomer=7","source":"","bulk":false,"automatic":true}`
		expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{"call": {task}}), http.StatusOK, "1", "")
		c := e.waitCall(t, "destination = ?", "099123456")[0]
		if c.Status != mu.CallAnswered || c.Origin != mu.OriginDialerTask || c.Agent != "9999" || c.Campaign != "POWER<-" || c.CallerID != "24000000" ||
			c.DialedAt == 0 || !c.Automatic || c.Bulk {
			t.Fatalf("dialled call %+v", c)
		}
		evs := e.events.of(c.UniqueID())
		if len(evs) != 2 || evs[0].State != events.Answered || evs[1].State != events.Ended {
			t.Fatalf("events of an answered call: %+v", evs)
		}
		for _, ev := range evs {
			if ev.Direction != events.Outbound || ev.Phone != "099123456" || ev.Agent != "9999" || ev.Source != "ucontact" ||
				ev.Variables["idcustomer"] != "7" || ev.Variables["guid"] != c.GUID || ev.Variables["origin"] != mu.OriginDialerTask {
				t.Fatalf("event %+v", ev)
			}
		}
		// Strings for the booleans, keys the document does not list, the vendor's 1900 date: accepted.
		expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{"call": {`{"calldate":"1900-01-01 00:00:00","campaign":"POWER<-","destination":"+15550100","bulk":"true","automatic":"false","extra":1}`}}),
			http.StatusOK, "1", "")
		c2 := e.waitCall(t, "destination = ?", "+15550100")[0]
		if !c2.Bulk || c2.Automatic || c2.Status != mu.CallAnswered {
			t.Fatalf("call %+v", c2)
		}
		// On a global do-not-call list (the national form of the listed number): recorded, not dialled.
		expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{"call": {`{"campaign":"POWER<-","destination":"03001234567"}`}}), http.StatusOK, "1", "")
		dnc := e.waitCall(t, "destination = ?", "03001234567")[0]
		if dnc.Status != mu.CallDoNotCall || !strings.Contains(dnc.Reason, "registry") || len(e.events.of(dnc.UniqueID())) != 0 {
			t.Fatalf("a listed number: %+v", dnc)
		}

		calls := e.count(t, &mu.Call{}, "")
		for _, tc := range []struct {
			name, call string
			status     int
			msg        string
		}{
			{"not JSON", `{"campaign":`, http.StatusBadRequest, "not a JSON object"},
			{"trailing data", `{"campaign":"POWER<-","destination":"1"} {}`, http.StatusBadRequest, "after its JSON"},
			{"an array", `[1]`, http.StatusBadRequest, "not a JSON object"},
			{"no campaign", `{"destination":"099123456"}`, http.StatusBadRequest, "campaign"},
			{"no destination", `{"campaign":"POWER<-"}`, http.StatusBadRequest, "destination"},
			{"letters", `{"campaign":"POWER<-","destination":"call me"}`, http.StatusBadRequest, "destination"},
			{"bad date", `{"campaign":"POWER<-","destination":"1","calldate":"tomorrow"}`, http.StatusBadRequest, "calldate"},
			{"bad boolean", `{"campaign":"POWER<-","destination":"1","bulk":"maybe"}`, http.StatusBadRequest, "boolean"},
			{"bad alternative", `{"campaign":"POWER<-","destination":"1","alternatives":"2:x"}`, http.StatusBadRequest, "alternative"},
			{"unknown campaign", `{"campaign":"Nope","destination":"1"}`, http.StatusNotFound, "Nope"},
			{"an SMS campaign", `{"campaign":"SMS->","destination":"1"}`, http.StatusNotFound, "SMS->"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{"call": {tc.call}}), tc.status, "0", tc.msg)
			})
		}
		expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{}), http.StatusBadRequest, "0", "required")
		if e.count(t, &mu.Call{}, "") != calls {
			t.Fatal("a refused record was stored")
		}
	})
}

// TestScheduleAndWebcallback: a scheduled call waits for its calldate (read in the schedule zone) with its
// job; the calldate is required; a web callback is a dialer call with the visitor's name among its
// variables; deleting the campaign cancels what still waits.
func TestScheduleAndWebcallback(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw", "")
		camp := e.addCampaign(t, "POWER<-", mu.ChannelTelephony, "")
		key := e.login(t, "Admin", "pw")

		sched := `{"calldate":"2031-05-04 15:55:55","campaign":"POWER<-","destination":"099123456","alternatives":"099111111:099222222","agentphone":"1997","data":"Par1=Val1:Par2=Val2"}`
		expect(t, e.post(t, "Dialers/ScheduleDialerCall", key, url.Values{"callschedule": {sched}}), http.StatusOK, "1", "")
		var c mu.Call
		if err := e.DB.Where("origin = ?", mu.OriginSchedule).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		if c.CallDate != time.Date(2031, 5, 4, 15, 55, 55, 0, time.UTC).Unix() || c.Agent != "1997" || c.Alternatives != "099111111:099222222" ||
			c.Data != "Par1=Val1:Par2=Val2" || c.Status != mu.CallPending {
			t.Fatalf("scheduled call %+v", c)
		}
		var jobs int64
		if err := e.DB.Table("river_job").Where("kind = ? AND state = ?", "ucontact_dial", "scheduled").Count(&jobs).Error; err != nil || jobs != 1 {
			t.Fatalf("scheduled jobs: %d %v", jobs, err)
		}
		expect(t, e.post(t, "Dialers/ScheduleDialerCall", key, url.Values{"callschedule": {`{"campaign":"POWER<-","destination":"1"}`}}),
			http.StatusBadRequest, "0", "calldate is required")
		expect(t, e.post(t, "Dialers/ScheduleDialerCall", key, url.Values{"callschedule": {`{"calldate":"2031-05-04 15:55:55","destination":"1"}`}}),
			http.StatusBadRequest, "0", "campaign")

		expect(t, e.post(t, "Dialers/Webcallback", key, url.Values{"campaign": {"POWER<-"}, "phone": {"099555555"}, "name": {"Jane Visitor"},
			"data": {"source=web"}}), http.StatusOK, "1", "")
		wc := e.waitCall(t, "origin = ?", mu.OriginWebcallback)[0]
		evs := e.events.of(wc.UniqueID())
		if wc.Status != mu.CallAnswered || wc.Destination != "099555555" || len(evs) != 2 || evs[0].Variables["name"] != "Jane Visitor" ||
			evs[0].Variables["source"] != "web" {
			t.Fatalf("web callback %+v, events %+v", wc, evs)
		}
		expect(t, e.post(t, "Dialers/Webcallback", key, url.Values{"campaign": {"POWER<-"}, "phone": {"099555555"}, "calldate": {"2031-01-01 10:00:00"}}),
			http.StatusOK, "1", "")
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			msg    string
		}{
			{"no phone", url.Values{"campaign": {"POWER<-"}}, http.StatusBadRequest, "phone"},
			{"letters", url.Values{"campaign": {"POWER<-"}, "phone": {"abc"}}, http.StatusBadRequest, "phone"},
			{"bad date", url.Values{"campaign": {"POWER<-"}, "phone": {"1"}, "calldate": {"soon"}}, http.StatusBadRequest, "calldate"},
			{"unknown campaign", url.Values{"campaign": {"Nope"}, "phone": {"1"}}, http.StatusNotFound, "Nope"},
		} {
			t.Run(tc.name, func(t *testing.T) { expect(t, e.post(t, "Dialers/Webcallback", key, tc.form), tc.status, "0", tc.msg) })
		}

		// Deleting the campaign cancels its two waiting calls; what was dialled stays.
		if err := mu.DeleteCampaign(context.Background(), e.DB, camp.ID); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, &mu.Call{}, "status = ?", mu.CallCanceled); n != 2 {
			t.Fatalf("%d calls canceled, want 2", n)
		}
		if n := e.count(t, &mu.Call{}, "status = ?", mu.CallAnswered); n != 1 {
			t.Fatalf("%d answered calls left, want 1", n)
		}
		expect(t, e.post(t, "Dialers/ScheduleDialerCall", key, url.Values{"callschedule": {sched}}), http.StatusNotFound, "0", "POWER<-")
	})
}

// The vendor's own base (notes 3.4): three records of AutomationDialerPD<-.
const vendorBase = "QXV0b21hdGlvbkRpYWxlclBEPC07OTk5NDQ0NDQ0O3N0YXRlPUtZOnZhcmlhYmxlMj12YWwyO0g9MD05OTk1NTU1NTU6Vz0wPTk5OTY2NjY2Njs5OTk5OwpBdXRvbWF0aW9uRGlhbGVyUEQ8LTs5OTkxMTExMTE7c3RhdGU9TlY6dmFyaWFibGUyPXZhbDI7OTk5MjIyMjIyOjk5OTMzMzMzMzs5OTk5OwpBdXRvbWF0aW9uRGlhbGVyUEQ8LTs5OTk3Nzc3Nzc7c3RhdGU9OnZhcmlhYmxlMj12YWwyOzk5OTg4ODg4ODo5OTk5OTk5OTk7OTk5OTs="

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestUploadBase: the vendor's base is stored as three dialer calls of one upload and dialled in file
// order; a bad base64, a bad line, a wrong cant or an unknown campaign stores nothing.
func TestUploadBase(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "SuperUserVoice", mu.RoleSupervisor, "123456", "")
		e.addCampaign(t, "AutomationDialerPD<-", mu.ChannelTelephony, "2345678")
		key := e.login(t, "SuperUserVoice", "123456")
		form := url.Values{"filename": {"automationPD.csv"}, "fileb64": {vendorBase}, "campaign": {"AutomationDialerPD<-"}, "cant": {"3"},
			"username": {"SuperUserVoice"}}
		expect(t, e.post(t, "Dialers/uploadbase", key, form), http.StatusOK, "1", "")
		var up mu.Upload
		if err := e.DB.Take(&up).Error; err != nil {
			t.Fatal(err)
		}
		if up.Filename != "automationPD.csv" || up.Username != "SuperUserVoice" || up.Records != 3 || up.Channel != mu.ChannelTelephony {
			t.Fatalf("upload %+v", up)
		}
		calls := e.waitCall(t, "upload_id = ?", up.ID)
		want := []struct{ phone, vars, alts string }{
			{"999444444", "state=KY:variable2=val2", "H=0=999555555:W=0=999666666"},
			{"999111111", "state=NV:variable2=val2", "999222222:999333333"},
			{"999777777", "state=:variable2=val2", "999888888:999999999"},
		}
		if len(calls) != 3 {
			t.Fatalf("calls %+v", calls)
		}
		for i, c := range calls {
			if c.Destination != want[i].phone || c.Data != want[i].vars || c.Alternatives != want[i].alts || c.Ref != "9999" ||
				c.Status != mu.CallAnswered || c.CallerID != "2345678" || len(e.events.of(c.UniqueID())) != 2 {
				t.Fatalf("call %d: %+v", i, c)
			}
		}
		if ev := e.events.of(calls[0].UniqueID())[0]; ev.Variables["state"] != "KY" || ev.Variables["variable2"] != "val2" {
			t.Fatalf("variables of the first record: %+v", ev.Variables)
		}

		before, uploads := e.count(t, &mu.Call{}, ""), e.count(t, &mu.Upload{}, "")
		good := "AutomationDialerPD<-;999444444;;;\n"
		for _, tc := range []struct {
			name, file, cant, campaign string
			status                     int
			msg                        string
		}{
			{"not base64", "!!!!", "", "", http.StatusBadRequest, "not base64"},
			{"not UTF-8", base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, ';'}), "", "", http.StatusBadRequest, "UTF-8"},
			{"empty", b64("\n\n"), "", "", http.StatusBadRequest, "no record"},
			{"letters in a phone", b64(good + "AutomationDialerPD<-;99x;;;\n"), "", "", http.StatusBadRequest, "line 2: phone"},
			{"no phone", b64(good + "AutomationDialerPD<-\n"), "", "", http.StatusBadRequest, "line 2: too few"},
			{"another campaign", b64(good + good + "Other<-;1;;;\n"), "", "", http.StatusBadRequest, "line 3: campaign"},
			{"a bad variable", b64(good + "AutomationDialerPD<-;1;novalue;;\n"), "", "", http.StatusBadRequest, "line 2: variable"},
			{"a bad alternative", b64("AutomationDialerPD<-;1;;H=0=x;\n"), "", "", http.StatusBadRequest, "line 1: alternative"},
			{"too many fields", b64("AutomationDialerPD<-;1;a=b;2;9999;more\n"), "", "", http.StatusBadRequest, "line 1: too many"},
			{"a long line", b64(good + "AutomationDialerPD<-;1;a=" + strings.Repeat("x", 4000) + ";;\n"), "", "", http.StatusBadRequest, "line 2: longer"},
			{"wrong cant", vendorBase, "2", "", http.StatusBadRequest, "cant is 2"},
			{"unknown campaign", b64("Nope;1;;;\n"), "", "Nope", http.StatusNotFound, "Nope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := url.Values{"fileb64": {tc.file}, "campaign": {"AutomationDialerPD<-"}}
				if tc.campaign != "" {
					f.Set("campaign", tc.campaign)
				}
				if tc.cant != "" {
					f.Set("cant", tc.cant)
				}
				expect(t, e.post(t, "Dialers/uploadbase", key, f), tc.status, "0", tc.msg)
			})
		}
		// More records than a base may hold.
		many := strings.Repeat("AutomationDialerPD<-;1;;;\n", mu.MaxBaseRecords+1)
		expect(t, e.post(t, "Dialers/uploadbase", key, url.Values{"fileb64": {b64(many)}, "campaign": {"AutomationDialerPD<-"}}),
			http.StatusBadRequest, "0", "more than 10000")
		if e.count(t, &mu.Call{}, "") != before || e.count(t, &mu.Upload{}, "") != uploads {
			t.Fatal("a refused base stored something")
		}
		// CRLF lines, no padding, blank lines, a line without the trailing ";": read alike.
		crlf := strings.TrimRight(b64("AutomationDialerPD<-;555000111;a=b\r\n\r\n;555000222\r\n"), "=")
		expect(t, e.post(t, "Dialers/uploadbase", key, url.Values{"fileb64": {crlf}, "campaign": {"AutomationDialerPD<-"}, "cant": {"2"}}),
			http.StatusOK, "1", "")
		if n := e.count(t, &mu.Call{}, "destination IN ?", []string{"555000111", "555000222"}); n != 2 {
			t.Fatalf("%d calls from the CRLF base", n)
		}
	})
}

// TestSimulatedOutcomes: the simulator's unanswered calls are recorded as such and publish nothing.
func TestSimulatedOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnvWithSim(t, "sqlite", gateway.SimConfig{NoAnswerRate: 1})
	e.addUser(t, "Admin", mu.RoleSupervisor, "pw", "")
	e.addCampaign(t, "POWER<-", mu.ChannelTelephony, "")
	key := e.login(t, "Admin", "pw")
	expect(t, e.post(t, "Dialers/DialerTask", key, url.Values{"call": {`{"campaign":"POWER<-","destination":"099123456"}`}}), http.StatusOK, "1", "")
	c := e.waitCall(t, "destination = ?", "099123456")[0]
	if c.Status != mu.CallNoAnswer || e.events.count() != 0 {
		t.Fatalf("unanswered call %+v, %d events", c, e.events.count())
	}
}
