package ictcore_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"switchboard/apitest"
	"switchboard/gateway"
)

// mailSink is a real SMTP server on 127.0.0.1 (go-smtp) that keeps what it receives.
type mailSink struct {
	mu  sync.Mutex
	got []sunkMail
}

type sunkMail struct {
	from string
	to   []string
	data []byte
}

func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

func (s *mailSink) received() []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunkMail(nil), s.got...)
}

type sinkSession struct {
	sink *mailSink
	m    sunkMail
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.m = sunkMail{from: from}
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *sinkSession) Reset()        { s.m = sunkMail{} }
func (s *sinkSession) Logout() error { return nil }

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = b
	s.sink.mu.Lock()
	s.sink.got = append(s.sink.got, s.m)
	s.sink.mu.Unlock()
	return nil
}

// startMailSink serves a mail sink until the test ends and answers it with its port.
func startMailSink(t *testing.T) (*mailSink, int) {
	t.Helper()
	sink := &mailSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return sink, l.Addr().(*net.TCPAddr).Port
}

// providerSettings is a provider's settings JSON object as the string the API takes.
func providerSettings(t *testing.T, v map[string]any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSendEmailThroughSMTP: an e-mail transmission goes through the smtp provider created with the API
// to a real SMTP server: the template's subject and body, and its attachment streamed from the media
// store, arrive; the attempt's results name the gateway and the provider.
func TestSendEmailThroughSMTP(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		sink, port := startMailSink(t)
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		provider := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "mail", "type": "smtp", "host": "127.0.0.1",
			"port": port, "settings": providerSettings(t, map[string]any{"tls": "none", "from": "noreply@example.com"})}), "provider_id")
		tpl := created(t, e.call(t, "POST", "/messages/templates", map[string]any{"name": "offer", "subject": "Spring offer",
			"body": "Dear customer, this is our spring offer."}), "template_id")
		attachment := "coupon code SPRING\n"
		if r := e.send(t, "PUT", fmt.Sprintf("/messages/templates/%d/media", tpl), "text/plain", []byte(attachment)); r.Status != 200 {
			t.Fatalf("attachment: %d %s", r.Status, r.Body)
		}
		program := created(t, e.call(t, "POST", "/programs/sendemail", map[string]any{"name": "mailing", "template_id": tpl}), "program_id")
		id := e.txCreate(t, map[string]any{"program_id": program, "email": "buyer@example.com"})
		spool := e.txSend(t, id)
		if s := e.txWait(t, id); s != "completed" {
			t.Fatalf("status %s: %+v %+v", s, e.txGet(t, id), e.txSpools(t, id))
		}
		got := sink.received()
		if len(got) != 1 || got[0].from != "noreply@example.com" || len(got[0].to) != 1 || got[0].to[0] != "buyer@example.com" {
			t.Fatalf("received %+v", got)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(got[0].data)))
		if err != nil {
			t.Fatal(err)
		}
		if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subject != "Spring offer" {
			t.Fatalf("subject %q", subject)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" {
			t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
		}
		var body, file, fileName string
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable parts
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				fileName = p.FileName()
				dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
				if err != nil {
					t.Fatalf("attachment not base64: %v", err)
				}
				file = string(dec)
			} else {
				body = string(b)
			}
		}
		if !strings.Contains(body, "Dear customer, this is our spring offer.") || fileName != "offer.txt" || file != attachment {
			t.Fatalf("body %q, attachment %q %q", body, fileName, file)
		}
		res := e.txResults(t, fmt.Sprintf("/spools/%d/result", spool))
		if res["application/gateway"] != "smtp" || res["application/provider"] != fmt.Sprintf("%d mail", provider) ||
			res["info/simulated"] != "" || !strings.HasPrefix(res["message/response"], "250") {
			t.Fatalf("results %v", res)
		}
	})
}

// TestSendSMSThroughHTTPProvider: an SMS goes through the active SMS provider with the lowest weight (an
// HTTP gateway) with the text and number in its URL; when that gateway fails, the attempt fails with
// the reason and, with no try left, so does the transmission.
func TestSendSMSThroughHTTPProvider(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		var mu sync.Mutex
		var got []url.Values
		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.URL.Query())
			mu.Unlock()
			fmt.Fprint(w, "0: Accepted for delivery")
		}))
		defer ok.Close()
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "gateway exploded", http.StatusInternalServerError)
		}))
		defer down.Close()
		e := newEnvWithOptions(t, kind, txOptions(gateway.SimConfig{}))
		settings := func(base string) string {
			return providerSettings(t, map[string]any{"url": base + "/send?to={to}&text={text}", "success": "Accepted"})
		}
		kannel := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "kannel", "type": "http",
			"settings": settings(ok.URL), "weight": 5}), "provider_id")
		// Neither is used: one weighs more, the other is inactive.
		created(t, e.call(t, "POST", "/providers", map[string]any{"name": "heavy", "type": "http", "settings": settings(down.URL), "weight": 9}), "provider_id")
		created(t, e.call(t, "POST", "/providers", map[string]any{"name": "off", "type": "http", "settings": settings(down.URL), "weight": 1, "active": 0}), "provider_id")

		program, _ := e.smsProgram(t, "Hello & welcome")
		id := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"})
		spool := e.txSend(t, id)
		if s := e.txWait(t, id); s != "completed" {
			t.Fatalf("status %s: %+v", s, e.txSpools(t, id))
		}
		mu.Lock()
		if len(got) != 1 || got[0].Get("to") != "+15550100" || got[0].Get("text") != "Hello & welcome" {
			t.Fatalf("the gateway got %v", got)
		}
		mu.Unlock()
		if res := e.txResults(t, fmt.Sprintf("/spools/%d/result", spool)); res["application/gateway"] != "http-sms" ||
			res["application/provider"] != fmt.Sprintf("%d kannel", kannel) {
			t.Fatalf("results %v", res)
		}

		if r := e.call(t, "PUT", fmt.Sprintf("/providers/%d", kannel), map[string]any{"settings": settings(down.URL)}); r.Status != 200 {
			t.Fatalf("update provider: %d %s", r.Status, r.Body)
		}
		failing := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100"})
		e.txSend(t, failing)
		if s := e.txWait(t, failing); s != "failed" {
			t.Fatalf("through a failing gateway: %s", s)
		}
		tx := e.txGet(t, failing)
		sp := e.txSpools(t, failing)
		if len(sp) != 1 || sp[0].Status != "failed" || !strings.Contains(tx.Response, "500") || !strings.Contains(sp[0].Response, "500") {
			t.Fatalf("failure: %+v %+v", tx, sp)
		}
	})
}
