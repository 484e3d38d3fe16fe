package ucontact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"switchboard/apitest"
	"switchboard/models/ictcore"
	mu "switchboard/models/ucontact"
)

// TestSMS: SendSMS and SendSMSv2 go through the simulator when no ICTCore provider offers SMS, and every
// SMS is recorded; ReceiveURLSMS records the inbound one; errors answer ERROR (SendSMS, ReceiveURLSMS) or
// 0 (SendSMSv2).
func TestSMS(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Vcisneros", mu.RoleAgent, "pw", "")
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		e.addCampaign(t, "SMS->", mu.ChannelSMS, "24000000")
		e.addCampaign(t, "Salida->", mu.ChannelTelephony, "")
		agent := e.agentLogin(t, "Vcisneros", "pw")
		sup := e.login(t, "Admin", "pw-admin")

		form := url.Values{"destination": {"099123456"}, "message": {"Hello from uContact"}, "campaign": {"SMS->"}, "agent": {"Vcisneros"}}
		expect(t, e.post(t, "SMS/SendSMS", agent, form), http.StatusOK, "OK", "")
		var m mu.SMS
		if err := e.DB.Order("id").Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		if m.Direction != mu.Outbound || m.Status != mu.SMSSent || m.Gateway != "simulator" || m.Phone != "099123456" || m.Message != "Hello from uContact" ||
			m.Source != "24000000" || m.Campaign != "SMS->" || m.Agent != "Vcisneros" {
			t.Fatalf("sent SMS %+v", m)
		}
		r := e.post(t, "SMS/SendSMSv2", agent, url.Values{"destination": {"099123456"}, "message": {"Again"}, "source": {"555"}})
		var id struct{ ID string }
		r.JSON(t, &id)
		n, _ := strconv.ParseInt(id.ID, 10, 64)
		m = mu.SMS{}
		if err := e.DB.Where("id = ?", n).Take(&m).Error; err != nil || r.Status != http.StatusOK || m.Message != "Again" || m.Source != "555" || m.Status != mu.SMSSent {
			t.Fatalf("SendSMSv2: %d %s, SMS %+v (%v)", r.Status, r.Body, m, err)
		}

		expect(t, e.get(t, "InboundSMS/ReceiveURLSMS?phone=099123456&message=Hi+there", sup), http.StatusOK, "OK", "")
		m = mu.SMS{}
		if err := e.DB.Where("direction = ?", mu.Inbound).Take(&m).Error; err != nil || m.Phone != "099123456" || m.Message != "Hi there" || m.Status != mu.SMSReceived {
			t.Fatalf("inbound SMS %+v (%v)", m, err)
		}

		before := e.count(t, &mu.SMS{}, "")
		for _, tc := range []struct {
			name, path string
			form       url.Values
			status     int
			body, msg  string
		}{
			{"no message", "SMS/SendSMS", url.Values{"destination": {"1"}}, http.StatusBadRequest, "ERROR", "message"},
			{"unknown campaign", "SMS/SendSMS", url.Values{"destination": {"1"}, "message": {"x"}, "campaign": {"Nope"}}, http.StatusNotFound, "ERROR", "Nope"},
			{"a telephony campaign", "SMS/SendSMS", url.Values{"destination": {"1"}, "message": {"x"}, "campaign": {"Salida->"}}, http.StatusNotFound, "ERROR", "Salida->"},
			{"v2 no destination", "SMS/SendSMSv2", url.Values{"message": {"x"}}, http.StatusBadRequest, "0", "destination"},
			{"v2 unknown campaign", "SMS/SendSMSv2", url.Values{"destination": {"1"}, "message": {"x"}, "campaign": {"Nope"}}, http.StatusNotFound, "0", "Nope"},
		} {
			t.Run(tc.name, func(t *testing.T) { expect(t, e.post(t, tc.path, agent, tc.form), tc.status, tc.body, tc.msg) })
		}
		expect(t, e.get(t, "InboundSMS/ReceiveURLSMS?phone=099123456", sup), http.StatusBadRequest, "ERROR", "message")
		if e.count(t, &mu.SMS{}, "") != before {
			t.Fatal("a refused SMS was recorded")
		}
	})
}

// TestSMSThroughProvider: with an active ICTCore HTTP provider offering SMS, SendSMS goes through that
// gateway (the text and number reach it); when it refuses, SendSMS answers 502 ERROR and SendSMSv2 502 0,
// and the SMS is recorded as failed with the reason.
func TestSMSThroughProvider(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		var mu2 sync.Mutex
		var got []url.Values
		refuse := false
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu2.Lock()
			defer mu2.Unlock()
			got = append(got, r.URL.Query())
			if refuse {
				http.Error(w, "no credit", http.StatusPaymentRequired)
				return
			}
			fmt.Fprint(w, "0: Accepted for delivery")
		}))
		defer gw.Close()
		e := newEnv(t, kind)
		settings, _ := json.Marshal(map[string]any{"url": gw.URL + "/send?to={to}&text={text}", "success": "Accepted"})
		if err := ictcore.CreateProvider(context.Background(), e.DB, &ictcore.Provider{Name: "kannel", Type: "http", Settings: string(settings), Active: 1}); err != nil {
			t.Fatal(err)
		}
		e.addUser(t, "Vcisneros", mu.RoleAgent, "pw", "")
		key := e.agentLogin(t, "Vcisneros", "pw")
		expect(t, e.post(t, "SMS/SendSMS", key, url.Values{"destination": {"+15550100"}, "message": {"Hello & welcome"}}), http.StatusOK, "OK", "")
		mu2.Lock()
		if len(got) != 1 || got[0].Get("to") != "+15550100" || got[0].Get("text") != "Hello & welcome" {
			t.Fatalf("the gateway got %v", got)
		}
		refuse = true
		mu2.Unlock()
		expect(t, e.post(t, "SMS/SendSMS", key, url.Values{"destination": {"+15550101"}, "message": {"x"}}), http.StatusBadGateway, "ERROR", "http-sms")
		expect(t, e.post(t, "SMS/SendSMSv2", key, url.Values{"destination": {"+15550102"}, "message": {"x"}}), http.StatusBadGateway, "0", "402")
		var ms []mu.SMS
		if err := e.DB.Order("id").Find(&ms).Error; err != nil || len(ms) != 3 {
			t.Fatalf("SMS %+v (%v)", ms, err)
		}
		if ms[0].Status != mu.SMSSent || ms[0].Gateway != "http-sms" || ms[1].Status != mu.SMSFailed || ms[2].Status != mu.SMSFailed || ms[2].Reason == "" {
			t.Fatalf("SMS %+v", ms)
		}
	})
}

// The vendor's own SMS base (notes 3.4): three lines of AutomatedSMSDialer, each with its message.
const vendorSMSBase = "QXV0b21hdGVkU01TRGlhbGVyOzA5MTExMTExMTtIaSBXb3JsZDs5OTk5CkF1dG9tYXRlZFNNU0RpYWxlcjswOTIyMjIyMjI7SGkgQ2l0eTs4ODg4CkF1dG9tYXRlZFNNU0RpYWxlcjswOTMzMzMzMzM7SGkgUGVvcGxlOzc3Nzc="

// TestUploadSmsBase: the vendor's SMS base (no cant, no username) becomes three queued SMS sent by their
// jobs, except to a number on a global do-not-call list; a bad line stores nothing.
func TestUploadSmsBase(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "SuperUserSMS", mu.RoleSupervisor, "123456", "")
		e.addCampaign(t, "AutomatedSMSDialer", mu.ChannelSMS, "24054070")
		e.addCampaign(t, "Voice<-", mu.ChannelTelephony, "")
		e.globalDNC(t, "+923001234567")
		key := e.login(t, "SuperUserSMS", "123456")
		expect(t, e.post(t, "SMS/uploadbase", key, url.Values{"filename": {"automationSMS.csv"}, "fileb64": {vendorSMSBase}, "campaign": {"AutomatedSMSDialer"}}),
			http.StatusOK, "1", "")
		ms := e.waitSMS(t, "campaign = ?", "AutomatedSMSDialer")
		want := []struct{ phone, msg, ref string }{{"091111111", "Hi World", "9999"}, {"092222222", "Hi City", "8888"}, {"093333333", "Hi People", "7777"}}
		if len(ms) != 3 {
			t.Fatalf("SMS %+v", ms)
		}
		for i, m := range ms {
			if m.Phone != want[i].phone || m.Message != want[i].msg || m.Ref != want[i].ref || m.Status != mu.SMSSent || m.Source != "24054070" || m.UploadID == 0 {
				t.Fatalf("SMS %d: %+v", i, m)
			}
		}
		expect(t, e.post(t, "SMS/uploadbase", key, url.Values{"fileb64": {b64("AutomatedSMSDialer;03001234567;Not for you;1\n")}, "campaign": {"AutomatedSMSDialer"}}),
			http.StatusOK, "1", "")
		if m := e.waitSMS(t, "phone = ?", "03001234567")[0]; m.Status != mu.SMSDoNotCall {
			t.Fatalf("a listed number: %+v", m)
		}

		before := e.count(t, &mu.SMS{}, "")
		for _, tc := range []struct {
			name, file, campaign string
			status               int
			msg                  string
		}{
			{"no message", b64("AutomatedSMSDialer;091111111;Hi;1\nAutomatedSMSDialer;092222222\n"), "AutomatedSMSDialer", http.StatusBadRequest, "line 2: too few"},
			{"a ; in the message", b64("AutomatedSMSDialer;091111111;Hi; there;1\n"), "AutomatedSMSDialer", http.StatusBadRequest, "line 1: too many"},
			{"a telephony campaign", b64("Voice<-;091111111;Hi\n"), "Voice<-", http.StatusNotFound, "Voice<-"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, e.post(t, "SMS/uploadbase", key, url.Values{"fileb64": {tc.file}, "campaign": {tc.campaign}}), tc.status, "0", tc.msg)
			})
		}
		if e.count(t, &mu.SMS{}, "") != before {
			t.Fatal("a refused SMS base stored something")
		}
	})
}
