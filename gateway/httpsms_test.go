package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchboard/models"
)

// smsServer records the requests of an httptest server and answers with reply.
type smsServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []smsRequest
}

type smsRequest struct {
	Method, Path, ContentType string
	Query                     url.Values
	Header                    http.Header
	Body                      string
	User, Pass                string
	BasicAuth                 bool
}

func startSMS(t *testing.T, reply http.HandlerFunc) *smsServer {
	t.Helper()
	s := &smsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := smsRequest{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(body)}
		rec.User, rec.Pass, rec.BasicAuth = r.BasicAuth()
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *smsServer) requests() []smsRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smsRequest(nil), s.reqs...)
}

func accepted(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprint(w, "0: Accepted for delivery")
}

func newHTTPSMS(t *testing.T, cfg HTTPConfig) *HTTPSMS {
	t.Helper()
	g, err := NewHTTPSMS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// nasty is a text that breaks naive substitution in URLs, forms and JSON.
const nasty = "Tom & Jerry + 1 = 2? 100% \"ok\" \\ {to} ünïcödé €\nnew line #frag"

func TestHTTPSMSGetEscapes(t *testing.T) {
	t.Parallel()
	srv := startSMS(t, accepted)
	g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/send/{to}?to={to}&from={from}&text={text}&ref={ref}",
		From: "Switch Board", Success: "Accepted"})
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "+1 555 0100", Body: nasty, Ref: "spool 7&x=y"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	if res.Response != "HTTP/1.1 202 Accepted\n0: Accepted for delivery" || res.Simulated {
		t.Errorf("result %+v", res)
	}
	req := srv.requests()[0]
	if req.Method != http.MethodGet || req.Path != "/send/+1 555 0100" {
		t.Errorf("%s %s", req.Method, req.Path)
	}
	want := url.Values{"to": {"+1 555 0100"}, "from": {"Switch Board"}, "text": {nasty}, "ref": {"spool 7&x=y"}}
	if fmt.Sprint(req.Query) != fmt.Sprint(want) {
		t.Errorf("query\n%v\nwant\n%v", req.Query, want)
	}
	if req.BasicAuth || req.Body != "" {
		t.Errorf("unexpected auth or body: %+v", req)
	}
}

func TestHTTPSMSPostForm(t *testing.T) {
	t.Parallel()
	srv := startSMS(t, accepted)
	g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/sms", Body: "to={to}&text={text}&from={from}",
		Username: "user", Password: "p&ss w+rd"})
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "+15550100", From: "+15550199", Body: nasty})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	req := srv.requests()[0]
	if req.Method != http.MethodPost || req.ContentType != FormContentType {
		t.Errorf("%s with %q", req.Method, req.ContentType)
	}
	form, err := url.ParseQuery(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("to") != "+15550100" || form.Get("from") != "+15550199" || form.Get("text") != nasty || len(form) != 3 {
		t.Errorf("form %v", form)
	}
	if !req.BasicAuth || req.User != "user" || req.Pass != "p&ss w+rd" {
		t.Errorf("basic auth %v %q %q", req.BasicAuth, req.User, req.Pass)
	}
}

func TestHTTPSMSPostJSONWithHeader(t *testing.T) {
	t.Parallel()
	srv := startSMS(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"status":"queued"}`) })
	g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/v1/messages", Method: "post", ContentType: JSONContentType,
		Body:   `{"to":"{to}","text":"{text}","ref":"{ref}"}`,
		Header: "X-Api-Key", HeaderValue: "key-123"})
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "+15550100", Body: nasty, Ref: "spool 9"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	req := srv.requests()[0]
	var got map[string]string
	if err := json.Unmarshal([]byte(req.Body), &got); err != nil {
		t.Fatalf("body %q: %v", req.Body, err)
	}
	if got["to"] != "+15550100" || got["text"] != nasty || got["ref"] != "spool 9" {
		t.Errorf("json %q", got)
	}
	if req.ContentType != JSONContentType || req.Header.Get("X-Api-Key") != "key-123" || req.BasicAuth {
		t.Errorf("headers %v", req.Header)
	}
	if strings.Contains(res.Response, "key-123") {
		t.Error("the API key shows in the response")
	}
}

func TestHTTPSMSMappings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		code     int
		body     string
		status   Status // "" for an error
		response string
	}{
		{"ok", 200, "0: Accepted for delivery", Delivered, "HTTP/1.1 200 OK\n0: Accepted for delivery"},
		{"ok without the success text", 200, "3: Queued for later", Failed, "HTTP/1.1 200 OK\n3: Queued for later"},
		{"bad request", 400, "Invalid phone number", Failed, "HTTP/1.1 400 Bad Request\nInvalid phone number"},
		{"forbidden", 403, "Authorization failed", Failed, "HTTP/1.1 403 Forbidden\nAuthorization failed"},
		{"redirect", 302, "", Failed, "HTTP/1.1 302 Found"},
		{"too many", 429, "slow down", "", ""},
		{"unavailable", 503, "down", "", ""},
		{"internal", 500, "oops", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMS(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.code == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.code)
				fmt.Fprint(w, tc.body)
			})
			g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/send?to={to}", Success: "Accepted"})
			res, err := g.Send(t.Context(), Message{Service: SMS, To: "1"})
			if tc.status == "" {
				if err == nil {
					t.Fatalf("%+v, want an error", res)
				}
				return
			}
			if err != nil || res.Status != tc.status || res.Response != tc.response {
				t.Fatalf("%+v, %v; want %s with %q", res, err, tc.status, tc.response)
			}
			if res.Status == Failed && res.Reason == "" {
				t.Error("no reason")
			}
			if n := len(srv.requests()); n != 1 {
				t.Errorf("%d requests (a redirect must not be followed)", n)
			}
		})
	}
}

func TestHTTPSMSBoundsTheAnswer(t *testing.T) {
	t.Parallel()
	srv := startSMS(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, strings.Repeat("é", 1<<20))
	})
	g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/?to={to}"})
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "1"})
	if err != nil || res.Status != Failed {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(res.Response) > maxAnswerKept+len("…") || !strings.HasSuffix(res.Response, "é…") {
		t.Errorf("response of %d bytes, ending %q", len(res.Response), res.Response[len(res.Response)-8:])
	}
}

func TestHTTPSMSPasswordInQueryStaysSecret(t *testing.T) {
	t.Parallel()
	const pw = "top secret&1"
	// A gateway that echoes the whole request, password included, and refuses it.
	srv := startSMS(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad login %s password=%s raw=%s", r.URL.Query().Get("username"), r.URL.Query().Get("password"), r.URL.RawQuery)
	})
	g := newHTTPSMS(t, HTTPConfig{URL: srv.URL + "/cgi-bin/sendsms?username={username}&password={password}&to={to}&text={text}",
		Username: "kannel", Password: pw})
	res, err := g.Send(t.Context(), Message{Service: SMS, To: "1", Body: "hi"})
	if err != nil || res.Status != Failed {
		t.Fatalf("%+v, %v", res, err)
	}
	req := srv.requests()[0]
	if req.Query.Get("password") != pw || req.BasicAuth {
		t.Errorf("password in query %q, basic auth %v", req.Query.Get("password"), req.BasicAuth)
	}
	if strings.Contains(res.Response, "secret") || !strings.Contains(res.Response, "bad login kannel") {
		t.Errorf("response %q", res.Response)
	}

	// A network error names the address, never the query.
	srv.Close()
	_, err = g.Send(t.Context(), Message{Service: SMS, To: "1", Body: "hi"})
	if err == nil || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "password") {
		t.Errorf("server down: %v", err)
	}
}

func TestHTTPSMSRefusesUnsendable(t *testing.T) {
	t.Parallel()
	g := newHTTPSMS(t, HTTPConfig{URL: "http://127.0.0.1:1/?to={to}"})
	for _, m := range []Message{{Service: Email, To: "a@example.org"}, {Service: SMS}} {
		if res, err := g.Send(t.Context(), m); err != nil || res.Status != Failed {
			t.Errorf("%+v: %+v, %v", m, res, err)
		}
	}
	if g.Name() != "http-sms" {
		t.Errorf("Name() = %q", g.Name())
	}
}

func TestNewHTTPSMSInvalid(t *testing.T) {
	t.Parallel()
	for _, cfg := range []HTTPConfig{
		{},
		{URL: "ftp://host/x"},
		{URL: "/relative?to={to}"},
		{URL: "http://h/", Method: "PUT"},
		{URL: "http://h/", Body: "<sms/>", ContentType: "text/xml"},
		{URL: "http://h/", Header: "X-Key: evil\r\nX"},
	} {
		if _, err := NewHTTPSMS(cfg); models.KindOf(err) != models.Invalid {
			t.Errorf("%+v: %v, want kind invalid", cfg, err)
		}
	}
	if _, err := NewHTTPSMS(HTTPConfig{URL: "http://h/", Password: "pw-in-error"}); err != nil {
		t.Fatal(err)
	}
	_, err := NewHTTPSMS(HTTPConfig{URL: "mailto:x", Password: "pw-in-error"})
	if err == nil || errors.Unwrap(err) != nil || strings.Contains(err.Error(), "pw-in-error") {
		t.Errorf("error %v", err)
	}
}
