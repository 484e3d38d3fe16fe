package gateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	mathrand "math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"switchboard/models"
)

// mailServer is a real go-smtp server on 127.0.0.1 that records what it receives.
type mailServer struct {
	Host string
	Port int
	// User and Pass, when set, make the server require AUTH PLAIN with them.
	User, Pass string
	// RcptErr, when set, is the server's answer to RCPT TO.
	RcptErr error

	mu  sync.Mutex
	got []envelope
}

type envelope struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

func (s *mailServer) received() []envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]envelope(nil), s.got...)
}

func (s *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{srv: s, conn: c}, nil
}

type mailSession struct {
	srv    *mailServer
	conn   *smtp.Conn
	authed bool
	env    envelope
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.User || pass != s.srv.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.env = envelope{From: from}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.RcptErr != nil {
		return s.srv.RcptErr
	}
	s.env.To = append(s.env.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.env.Data = b
	_, s.env.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.env)
	s.srv.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.env = envelope{} }
func (s *mailSession) Logout() error { return nil }

// start serves s on 127.0.0.1:0: with cert, STARTTLS is offered (or, implicit, TLS from the start).
func (s *mailServer) start(t *testing.T, cert *tls.Certificate, implicit bool) {
	t.Helper()
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = cert == nil // a plain-text server that still lets tests log in
	srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	s.Host = "127.0.0.1"
	s.Port = l.Addr().(*net.TCPAddr).Port
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(v...) }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gateway test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func newSMTP(t *testing.T, cfg SMTPConfig) *SMTP {
	t.Helper()
	g, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// tracked is an attachment that remembers whether it was opened and closed.
type tracked struct {
	io.Reader
	closed bool
}

func (r *tracked) Close() error { r.closed = true; return nil }

func TestSMTPDeliversMIME(t *testing.T) {
	t.Parallel()
	srv := &mailServer{}
	srv.start(t, nil, false)
	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSNone, From: "Dialer <dialer@example.com>", HELO: "sb.example.com"})

	pdf := make([]byte, 300<<10) // several base64 lines and io.Copy rounds
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for i := range pdf {
		pdf[i] = byte(rng.Uint32())
	}
	text := "Grüße, ünïcode ✓\nline two with trailing spaces   \n" + strings.Repeat("long line ", 30) + "\n.\n..dot start\n"
	subject := "Rechnung für März – ✓ a subject long enough to need several encoded words in its header"
	att1 := &tracked{Reader: bytes.NewReader(pdf)}
	m := Message{
		Service: Email, To: "Ann <ann@example.org>", Subject: subject, Body: text, Ref: "spool 1",
		Attachments: []Attachment{
			{Name: "invoice.pdf", ContentType: "application/pdf", Open: func(context.Context) (io.ReadCloser, error) { return att1, nil }},
			{Name: "notes ü.txt", Open: func(context.Context) (io.ReadCloser, error) {
				return io.NopCloser(strings.NewReader("plain notes\r\n")), nil
			}},
		},
	}
	res, err := g.Send(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Delivered || res.Simulated || !strings.HasPrefix(res.Response, "250 ") {
		t.Fatalf("result %+v", res)
	}
	if !att1.closed {
		t.Error("attachment not closed")
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	if got[0].From != "dialer@example.com" || len(got[0].To) != 1 || got[0].To[0] != "ann@example.org" {
		t.Errorf("envelope %q → %q", got[0].From, got[0].To)
	}
	for i, line := range bytes.Split(got[0].Data, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d has %d bytes", i, len(line))
		}
		if j := bytes.IndexFunc(line, func(r rune) bool { return r >= 0x80 }); j >= 0 {
			t.Errorf("line %d is not 7-bit: %q", i, line)
		}
	}

	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err != nil || s != subject {
		t.Errorf("subject %q (%v), want %q", s, err, subject)
	}
	if a, err := msg.Header.AddressList("To"); err != nil || a[0].Name != "Ann" || a[0].Address != "ann@example.org" {
		t.Errorf("To %v (%v)", a, err)
	}
	if a, err := msg.Header.AddressList("From"); err != nil || a[0].Address != "dialer@example.com" {
		t.Errorf("From %v (%v)", a, err)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if v := msg.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version %q", v)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q (%v)", mt, err)
	}

	mr := multipart.NewReader(msg.Body, params["boundary"])
	part, err := mr.NextPart() // the reader decodes quoted-printable itself
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(part)
	if want := strings.ReplaceAll(text, "\n", "\r\n"); string(body) != want {
		t.Errorf("body\n%q\nwant\n%q", body, want)
	}
	if ct := part.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("body Content-Type %q", ct)
	}
	for _, want := range []struct {
		name, ctype string
		data        []byte
	}{{"invoice.pdf", "application/pdf", pdf}, {"notes ü.txt", "application/octet-stream", []byte("plain notes\r\n")}} {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() != want.name {
			t.Errorf("file name %q, want %q", part.FileName(), want.name)
		}
		if ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct != want.ctype {
			t.Errorf("%s: Content-Type %q", want.name, ct)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "base64" {
			t.Errorf("%s: Content-Transfer-Encoding %q", want.name, cte)
		}
		data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, part))
		if err != nil || !bytes.Equal(data, want.data) {
			t.Errorf("%s: %d bytes arrived (%v), want %d", want.name, len(data), err, len(want.data))
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after the attachments: %v, want EOF", err)
	}
}

func TestSMTPPlainTextOnly(t *testing.T) {
	t.Parallel()
	srv := &mailServer{}
	srv.start(t, nil, false)
	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSNone, From: "dialer@example.com"})
	res, err := g.Send(t.Context(), Message{Service: Email, To: "bob@example.org", From: "other@example.net",
		Subject: "Hello\r\nBcc: eve@example.org", Body: "hi"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	got := srv.received()[0]
	if got.From != "other@example.net" {
		t.Errorf("Message.From should win over the configured one: %q", got.From)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("Subject") != "Hello Bcc: eve@example.org" {
		t.Errorf("a line break in the subject made a header: %q", msg.Header)
	}
	if ct := msg.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if b, _ := io.ReadAll(msg.Body); string(b) != "hi\r\n" { // SMTP data always ends a line
		t.Errorf("body %q", b)
	}
}

func TestSMTPStartTLSAuth(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	srv := &mailServer{User: "dialer", Pass: "s3cret"}
	srv.start(t, &cert, false)

	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSStartTLS, RootCAs: pool,
		Username: "dialer", Password: "s3cret", From: "dialer@example.com"})
	res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org", Subject: "s", Body: "b"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := srv.received(); len(got) != 1 || !got[0].TLS {
		t.Errorf("received %+v, want one message over TLS", got)
	}

	// A wrong password is a definite refusal, and its reply is kept; the password is not.
	bad := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, RootCAs: pool,
		Username: "dialer", Password: "wrong-pw", From: "dialer@example.com"})
	res, err = bad.Send(t.Context(), Message{Service: Email, To: "ann@example.org"})
	if err != nil || res.Status != Failed || !strings.HasPrefix(res.Response, "535 5.7.8") ||
		!strings.Contains(res.Reason, "authentication") {
		t.Errorf("wrong password: %+v, %v", res, err)
	}
	if strings.Contains(res.Response+res.Reason, "wrong-pw") {
		t.Error("the password shows in the result")
	}

	// Without the test CA the certificate is not trusted: the attempt cannot be made.
	untrusted := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, From: "dialer@example.com"})
	if _, err := untrusted.Send(t.Context(), Message{Service: Email, To: "ann@example.org"}); !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Errorf("untrusted certificate: %v, want a verification error", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	srv := &mailServer{}
	srv.start(t, &cert, true)
	g := newSMTP(t, SMTPConfig{Host: "localhost", Port: srv.Port, TLS: TLSImplicit, RootCAs: pool, From: "d@example.com"})
	res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org", Body: "b"})
	if err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := srv.received(); len(got) != 1 || !got[0].TLS {
		t.Errorf("received %+v, want one message over TLS", got)
	}
}

func TestSMTPStartTLSRequired(t *testing.T) {
	t.Parallel()
	srv := &mailServer{} // offers no STARTTLS
	srv.start(t, nil, false)
	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSStartTLS, From: "d@example.com"})
	if res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org"}); err == nil {
		t.Fatalf("no STARTTLS: %+v, want an error", res)
	}
	if len(srv.received()) != 0 {
		t.Error("the message went out in clear")
	}
}

func TestSMTPInsecureAuthOnLoopback(t *testing.T) {
	t.Parallel()
	srv := &mailServer{User: "u", Pass: "p"}
	srv.start(t, nil, false)
	if _, err := NewSMTP(SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSNone, Username: "u", Password: "p"}); models.KindOf(err) != models.Invalid {
		t.Errorf("plain-text AUTH not allowed: %v, want kind invalid", err)
	}
	if _, err := NewSMTP(SMTPConfig{Host: "mail.example.com", TLS: TLSNone, Username: "u", Password: "p", AllowInsecureAuth: true}); models.KindOf(err) != models.Invalid {
		t.Errorf("plain-text AUTH to another host: %v, want kind invalid", err)
	}
	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSNone, Username: "u", Password: "p",
		AllowInsecureAuth: true, From: "d@example.com"})
	if res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org"}); err != nil || res.Status != Delivered {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestSMTPReplies(t *testing.T) {
	t.Parallel()
	permanent := &mailServer{RcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}}
	permanent.start(t, nil, false)
	g := newSMTP(t, SMTPConfig{Host: permanent.Host, Port: permanent.Port, TLS: TLSNone, From: "d@example.com"})
	res, err := g.Send(t.Context(), Message{Service: Email, To: "nobody@example.org"})
	if err != nil {
		t.Fatalf("550: error %v, want a Failed result", err)
	}
	if res.Status != Failed || res.Response != "550 5.1.1 No such user here" || !strings.Contains(res.Reason, "recipient") {
		t.Errorf("550: %+v", res)
	}

	temporary := &mailServer{RcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try later"}}
	temporary.start(t, nil, false)
	g = newSMTP(t, SMTPConfig{Host: temporary.Host, Port: temporary.Port, TLS: TLSNone, From: "d@example.com"})
	res, err = g.Send(t.Context(), Message{Service: Email, To: "ann@example.org"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 451 {
		t.Errorf("451: %+v, %v; want an error carrying the reply", res, err)
	}
}

func TestSMTPServerDown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	g := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "d@example.com"})
	if res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org"}); err == nil {
		t.Errorf("server down: %+v, want an error", res)
	}
}

func TestSMTPContextEndsSession(t *testing.T) {
	t.Parallel()
	// A server that accepts and never greets: only the end of ctx can end Send.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cancel()
		_, _ = io.Copy(io.Discard, c)
	}()
	g := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TLS: TLSNone, From: "d@example.com"})
	if _, err := g.Send(ctx, Message{Service: Email, To: "ann@example.org"}); !errors.Is(err, context.Canceled) {
		t.Errorf("silent server, cancelled: %v, want context.Canceled", err)
	}
}

func TestSMTPAttachmentFailureSendsNothing(t *testing.T) {
	t.Parallel()
	srv := &mailServer{}
	srv.start(t, nil, false)
	g := newSMTP(t, SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: TLSNone, From: "d@example.com"})
	boom := errors.New("storage unavailable")
	res, err := g.Send(t.Context(), Message{Service: Email, To: "ann@example.org", Body: "b", Attachments: []Attachment{
		{Name: "a.pdf", Open: func(context.Context) (io.ReadCloser, error) { return nil, boom }},
	}})
	if !errors.Is(err, boom) {
		t.Errorf("%+v, %v; want the open error", res, err)
	}
	if len(srv.received()) != 0 {
		t.Error("a message without its attachment was delivered")
	}
}

func TestSMTPRefusesUnsendable(t *testing.T) {
	t.Parallel()
	// Nothing listens here: a refusal must come before any connection.
	g := newSMTP(t, SMTPConfig{Host: "127.0.0.1", Port: 1, TLS: TLSNone})
	open := func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("")), nil }
	for name, m := range map[string]Message{
		"sms":          {Service: SMS, To: "ann@example.org", From: "d@example.com"},
		"no recipient": {Service: Email, From: "d@example.com"},
		"bad address":  {Service: Email, To: "ann@example.org\r\nRCPT TO:<x@y>", From: "d@example.com"},
		"no sender":    {Service: Email, To: "ann@example.org"},
		"no open":      {Service: Email, To: "ann@example.org", From: "d@example.com", Attachments: []Attachment{{Name: "x"}}},
		"bad type":     {Service: Email, To: "ann@example.org", From: "d@example.com", Attachments: []Attachment{{Name: "x", ContentType: "no type", Open: open}}},
	} {
		res, err := g.Send(t.Context(), m)
		if err != nil || res.Status != Failed || res.Reason == "" {
			t.Errorf("%s: %+v, %v; want Failed with a reason", name, res, err)
		}
	}
}

func TestNewSMTPDefaults(t *testing.T) {
	t.Parallel()
	for mode, port := range map[TLSMode]int{"": 587, TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465} {
		g := newSMTP(t, SMTPConfig{Host: "mail.example.com", TLS: mode})
		if g.addr != "mail.example.com:"+strconv.Itoa(port) {
			t.Errorf("mode %q: addr %s", mode, g.addr)
		}
	}
	for _, cfg := range []SMTPConfig{{}, {Host: "h", TLS: "ssl"}, {Host: "h", Port: 70000}, {Host: "h", From: "not an address"}} {
		if _, err := NewSMTP(cfg); models.KindOf(err) != models.Invalid {
			t.Errorf("%+v: %v, want kind invalid", cfg, err)
		}
	}
}
