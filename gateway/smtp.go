package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"switchboard/models"
)

// TLSMode is how the SMTP gateway protects its connection.
type TLSMode string

// The TLS modes. There is no opportunistic mode: STARTTLS, when asked for, is required, so a server (or a
// man in the middle) that does not offer it cannot downgrade the session to plain text.
const (
	TLSNone     TLSMode = "none"     // plain text (port 25 by default); only for a relay on a trusted network
	TLSStartTLS TLSMode = "starttls" // plain connect, then STARTTLS, required (port 587 by default)
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 465 by default)
)

// SMTPConfig sets up an SMTP gateway.
type SMTPConfig struct {
	Host string
	Port int // 0: 25, 587 or 465 by TLS mode
	// Username and Password log in with AUTH PLAIN (or LOGIN when the server offers only that).
	// An empty Username sends without logging in.
	Username, Password string
	From               string  // sender ("Name <addr>" allowed) when Message.From is empty
	TLS                TLSMode // empty: starttls
	// RootCAs trusts these certificate authorities instead of the system's (a private relay, tests).
	RootCAs *x509.CertPool
	// InsecureSkipVerify accepts any server certificate. For tests only: it gives up what TLS is for.
	InsecureSkipVerify bool
	HELO               string        // name given in EHLO; empty: "localhost"
	Timeout            time.Duration // bounds one whole Send (connect, dialogue, upload); 0: 1 minute
	// AllowInsecureAuth lets AUTH go over plain text, which is honoured only when Host is a loopback
	// address or "localhost" (tests, a local relay): anywhere else it would show the password to the wire.
	AllowInsecureAuth bool
}

// SMTP sends e-mail through an SMTP server. It opens one connection per Send: a worker's attempts are
// minutes apart and a pooled session would go stale between them.
type SMTP struct {
	cfg  SMTPConfig
	addr string
	tls  *tls.Config
}

var _ Gateway = (*SMTP)(nil)

// NewSMTP checks cfg and answers the gateway, or an error of kind Invalid.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, models.Errorf(models.Invalid, "smtp: host is required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	port := map[TLSMode]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[cfg.TLS]
	if port == 0 {
		return nil, models.Errorf(models.Invalid, "smtp: tls must be none, starttls or tls, not %q", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = port
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, models.Errorf(models.Invalid, "smtp: port %d is out of range", cfg.Port)
	}
	if cfg.From != "" {
		if _, err := mail.ParseAddress(cfg.From); err != nil {
			return nil, models.Errorf(models.Invalid, "smtp: from %q is not an e-mail address", cfg.From)
		}
	}
	if cfg.Username != "" && cfg.TLS == TLSNone && !(cfg.AllowInsecureAuth && loopback(cfg.Host)) {
		return nil, models.Errorf(models.Invalid, "smtp: logging in needs tls or starttls, the password would cross the network in clear")
	}
	if cfg.HELO == "" {
		cfg.HELO = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	return &SMTP{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls: &tls.Config{
			ServerName:         cfg.Host,
			RootCAs:            cfg.RootCAs,
			InsecureSkipVerify: cfg.InsecureSkipVerify, // documented as tests only
			MinVersion:         tls.VersionTLS12,
		},
	}, nil
}

// loopback reports whether host is this machine, where plain-text AUTH crosses no network.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name answers "smtp".
func (g *SMTP) Name() string { return "smtp" }

// Send delivers m as one MIME message. A 5xx reply at any step answers Failed with the reply in Response;
// 4xx replies, network and TLS errors and a Timeout answer an error. When the upload fails half-way (an
// attachment that cannot be read, a dropped connection), the connection is dropped before the final dot,
// so the server discards the partial message rather than delivering it.
func (g *SMTP) Send(ctx context.Context, m Message) (Result, error) {
	start := time.Now()
	if m.Service != Email {
		return refuse("the smtp gateway carries e-mail only, not %s", m.Service), nil
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return refuse("recipient %q is not an e-mail address", m.To), nil
	}
	sender := m.From
	if sender == "" {
		sender = g.cfg.From
	}
	from, err := mail.ParseAddress(sender)
	if err != nil {
		return refuse("sender %q is not an e-mail address", sender), nil
	}
	for _, a := range m.Attachments {
		if err := checkAttachment(a); err != nil {
			return refuse("%v", err), nil
		}
	}

	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	reply, step, err := g.deliver(ctx, from, to, m)
	res := Result{Duration: time.Since(start)}
	var se *smtp.SMTPError
	switch {
	case err == nil:
		res.Status, res.Response = Delivered, excerpt(reply, maxResponse)
	case errors.As(err, &se) && se.Code/100 == 5:
		res.Status, res.Reason, res.Response = Failed, "the server refused "+step, excerpt(formatReply(se), maxResponse)
	case ctx.Err() != nil:
		return Result{}, fmt.Errorf("smtp %s: %s: %w", g.addr, step, ctx.Err())
	default:
		return Result{}, fmt.Errorf("smtp %s: %s: %w", g.addr, step, err)
	}
	return res, nil
}

// deliver runs one SMTP session; step names what was going on when err happened.
func (g *SMTP) deliver(ctx context.Context, from, to *mail.Address, m Message) (reply, step string, err error) {
	var conn net.Conn
	dialer := &net.Dialer{}
	if g.cfg.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: g.tls}).DialContext(ctx, "tcp", g.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", g.addr)
	}
	if err != nil {
		return "", "the connection", err
	}
	// go-smtp has no context: closing the connection when ctx ends unblocks whatever it is waiting on.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	if g.cfg.TLS == TLSStartTLS {
		// go-smtp greets with "EHLO localhost" before STARTTLS; the HELO name goes in the EHLO after it.
		if c, err = smtp.NewClientStartTLS(conn, g.tls); err != nil {
			return "", "STARTTLS", err
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = g.cfg.Timeout, g.cfg.Timeout
	if err := c.Hello(g.cfg.HELO); err != nil {
		return "", "the greeting", err
	}
	if g.cfg.Username != "" {
		var a sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			a = sasl.NewPlainClient("", g.cfg.Username, g.cfg.Password)
		case c.SupportsAuth(sasl.Login):
			a = sasl.NewLoginClient(g.cfg.Username, g.cfg.Password)
		default:
			return "", "authentication", errors.New("the server offers neither AUTH PLAIN nor AUTH LOGIN")
		}
		if err := c.Auth(a); err != nil {
			return "", "authentication", err
		}
	}
	if err := c.Mail(from.Address, nil); err != nil {
		return "", "the sender", err
	}
	if err := c.Rcpt(to.Address, nil); err != nil {
		return "", "the recipient", err
	}
	w, err := c.Data()
	if err != nil {
		return "", "the message", err
	}
	if err := writeMessage(ctx, w, from, to, m, time.Now()); err != nil {
		return "", "the upload", err // no final dot: the server drops the partial message
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", "the message", err
	}
	_ = c.Quit() // the message is accepted; a failed goodbye changes nothing
	return "250 " + resp.StatusText, "", nil
}

// formatReply writes an SMTP error back as the server's reply line ("550 5.1.1 No such user").
func formatReply(e *smtp.SMTPError) string {
	if e.EnhancedCode != (smtp.EnhancedCode{}) && e.EnhancedCode != smtp.NoEnhancedCode {
		ec := e.EnhancedCode
		return fmt.Sprintf("%d %d.%d.%d %s", e.Code, ec[0], ec[1], ec[2], e.Message)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Message)
}
