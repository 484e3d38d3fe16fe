package gateway

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/models"
)

func TestFromProviderSMTP(t *testing.T) {
	t.Parallel()
	sim := newSim(t, SimConfig{})
	g, err := FromProvider(ProviderConfig{Type: "smtp", Host: "mail.example.com", Username: "u", Password: "p",
		Prefix: "9", Settings: `{"from":"Dialer <d@example.com>","tls":"tls","helo":"sb.example.com","timeout":5}`}, sim)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := g.(*SMTP)
	if !ok {
		t.Fatalf("got %T, want *SMTP (no prefix for e-mail)", g)
	}
	want := SMTPConfig{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", From: "Dialer <d@example.com>",
		TLS: TLSImplicit, HELO: "sb.example.com", Timeout: 5 * time.Second}
	if s.cfg != want {
		t.Errorf("config\n%+v\nwant\n%+v", s.cfg, want)
	}

	// No settings: STARTTLS on 587, or implicit TLS when the row says port 465.
	for port, mode := range map[int]TLSMode{0: TLSStartTLS, 587: TLSStartTLS, 465: TLSImplicit} {
		g, err := FromProvider(ProviderConfig{Type: "smtp", Host: "h", Port: port}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.(*SMTP).cfg.TLS; got != mode {
			t.Errorf("port %d: tls %q, want %q", port, got, mode)
		}
	}
}

func TestFromProviderHTTP(t *testing.T) {
	t.Parallel()
	srv := startSMS(t, accepted)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	portN, _ := strconv.Atoi(port)

	// A path in settings goes to the row's host and port; the prefix goes before the number.
	g, err := FromProvider(ProviderConfig{Type: "http", Host: host, Port: portN, Username: "kannel", Password: "pw",
		Prefix: "00", Settings: `{"url":"/cgi-bin/sendsms?to={to}&text={text}","success":"Accepted","from":"SB"}`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != "http-sms" {
		t.Errorf("Name() = %q", g.Name())
	}
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "15550100", Body: "hi", Ref: "spool 1"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	req := srv.requests()[0]
	if req.Path != "/cgi-bin/sendsms" || req.Query.Get("to") != "0015550100" || req.Query.Get("text") != "hi" {
		t.Errorf("request %+v", req)
	}
	if !req.BasicAuth || req.User != "kannel" || req.Pass != "pw" {
		t.Errorf("basic auth %v %q %q", req.BasicAuth, req.User, req.Pass)
	}

	// With "header", the password is that header's value and there is no Basic auth.
	g, err = FromProvider(ProviderConfig{Type: "http", Username: "ignored", Password: "api-key",
		Settings: `{"url":"` + srv.URL + `/json","method":"POST","body":"{\"to\":\"{to}\"}","content_type":"application/json","header":"X-Api-Key"}`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := g.Send(t.Context(), Message{Service: SMS, To: "15550100"}); err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	req = srv.requests()[1]
	if req.Header.Get("X-Api-Key") != "api-key" || req.BasicAuth || req.Body != `{"to":"15550100"}` || req.Method != http.MethodPost {
		t.Errorf("request %+v", req)
	}
}

// recorder is a gateway that keeps the last message it was given.
type recorder struct{ last Message }

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(_ context.Context, m Message) (Result, error) {
	r.last = m
	return Result{Status: Delivered}, nil
}

func TestFromProviderSimulated(t *testing.T) {
	t.Parallel()
	sim := newSim(t, SimConfig{Seed: 3})
	for _, typ := range []string{"sip", "smpp", "emailcmd"} {
		g, err := FromProvider(ProviderConfig{Type: typ, Settings: "anything: not read"}, sim)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		res, err := g.Send(t.Context(), Message{Service: Voice, To: "15550100", Ref: "spool 5"})
		if err != nil || !res.Simulated || g.Name() != "simulator" {
			t.Errorf("%s: %s answered %+v, %v", typ, g.Name(), res, err)
		}
		if want := sim.Predict(Message{Service: Voice, To: "15550100", Ref: "spool 5"}); res != want {
			t.Errorf("%s: %+v, want %+v", typ, res, want)
		}
	}
	if _, err := FromProvider(ProviderConfig{Type: "sip"}, nil); err == nil {
		t.Error("sip without a simulator: no error")
	}

	g, err := FromProvider(ProviderConfig{Type: "sip", Prefix: "9"}, sim)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	p := g.(prefixed)
	p.Gateway = rec
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Message{Service: Voice, To: "+15550100"}, "9+15550100"},
		{Message{Service: Fax, To: "15550100"}, "915550100"},
		{Message{Service: SMS, To: "15550100"}, "915550100"},
		{Message{Service: Email, To: "a@example.org"}, "a@example.org"},
		{Message{Service: Voice}, ""},
	} {
		if _, err := p.Send(t.Context(), tc.m); err != nil || rec.last.To != tc.want {
			t.Errorf("%+v: sent to %q (%v), want %q", tc.m, rec.last.To, err, tc.want)
		}
	}
}

func TestFromProviderInvalid(t *testing.T) {
	t.Parallel()
	sim := newSim(t, SimConfig{})
	for name, p := range map[string]ProviderConfig{
		"unknown type":       {Type: "fax-modem"},
		"smtp without host":  {Type: "smtp"},
		"smtp bad json":      {Type: "smtp", Host: "h", Settings: "settings"},
		"smtp unknown key":   {Type: "smtp", Host: "h", Settings: `{"tsl":"none"}`},
		"smtp two objects":   {Type: "smtp", Host: "h", Settings: `{} {}`},
		"smtp bad tls":       {Type: "smtp", Host: "h", Settings: `{"tls":"ssl"}`},
		"smtp bad timeout":   {Type: "smtp", Host: "h", Settings: `{"timeout":-1}`},
		"smtp auth in clear": {Type: "smtp", Host: "h", Username: "u", Password: "hunter2", Settings: `{"tls":"none"}`},
		"http without url":   {Type: "http", Host: "h", Settings: `{"method":"GET"}`},
		"http no settings":   {Type: "http", Host: "h"},
		"http path, no host": {Type: "http", Settings: `{"url":"/send?to={to}"}`},
		"http wrong type":    {Type: "http", Settings: `{"url":42}`},
		"http bad method":    {Type: "http", Password: "hunter2", Settings: `{"url":"http://h/","method":"DELETE"}`},
	} {
		_, err := FromProvider(p, sim)
		if models.KindOf(err) != models.Invalid {
			t.Errorf("%s: %v, want kind invalid", name, err)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the password shows in %q", name, err)
		}
	}
}
