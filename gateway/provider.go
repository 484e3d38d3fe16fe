package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"switchboard/models"
)

// ProviderConfig is what FromProvider needs of an ICTCore provider row (schema Provider in
// openapi/ictcore.yaml), as plain values so this package depends on neither models' tables nor gen.
type ProviderConfig struct {
	Type     string // sip, smpp, http, smtp, emailcmd
	Host     string
	Port     int
	Username string
	Password string // the stored, write-only password
	Prefix   string // dialled before the phone number
	Settings string // a JSON object for smtp and http (keys below); ignored for the other types
}

// smtpSettings are the keys of an smtp provider's settings.
type smtpSettings struct {
	From    string  `json:"from"`    // default sender
	TLS     string  `json:"tls"`     // none, starttls or tls; default tls on port 465, else starttls
	HELO    string  `json:"helo"`    // EHLO name
	Timeout float64 `json:"timeout"` // seconds for one whole send
}

// httpSettings are the keys of an http provider's settings.
type httpSettings struct {
	URL         string  `json:"url"` // template; a path ("/cgi-bin/sendsms?…") goes to http://host:port
	Method      string  `json:"method"`
	Body        string  `json:"body"`
	ContentType string  `json:"content_type"`
	Success     string  `json:"success"`
	Header      string  `json:"header"` // the password travels in this header instead of Basic auth
	From        string  `json:"from"`
	Timeout     float64 `json:"timeout"` // seconds
}

// FromProvider builds the gateway a provider row asks for:
//
//   - smtp: an SMTP gateway to host:port (port 0: by TLS mode), logging in with username and password
//     when a username is set. Settings: {"from", "tls" (none|starttls|tls), "helo", "timeout" (seconds)}.
//   - http: an HTTP SMS gateway (see HTTPConfig). Settings: {"url" (required), "method", "body",
//     "content_type", "success", "header", "from", "timeout" (seconds)}. Username and password go as Basic
//     auth, unless "header" is set (then the password is that header's value) or a template uses
//     {password} (Kannel's sendsms wants it in the query).
//   - sip, smpp, emailcmd: sim. Voice and fax go through the simulator until a telephony back end exists,
//     and so do SMPP and the sendmail command until they are built.
//
// For sip, smpp and http, a prefix is put before the recipient's number of every voice, fax and SMS
// message, as ICTCore's dial string does: plainly concatenated, "9" and "+15550100" give "9+15550100".
// Bad settings (not a JSON object, an unknown key, a missing url) answer an error of kind Invalid, which
// never quotes the password.
func FromProvider(p ProviderConfig, sim *Simulator) (Gateway, error) {
	var g Gateway
	switch p.Type {
	case "smtp":
		var s smtpSettings
		if err := decodeSettings(p.Settings, &s); err != nil {
			return nil, err
		}
		timeout, err := seconds(s.Timeout)
		if err != nil {
			return nil, err
		}
		mode := TLSMode(s.TLS)
		if mode == "" {
			mode = TLSStartTLS
			if p.Port == 465 {
				mode = TLSImplicit
			}
		}
		return NewSMTP(SMTPConfig{Host: p.Host, Port: p.Port, Username: p.Username, Password: p.Password,
			From: s.From, TLS: mode, HELO: s.HELO, Timeout: timeout})
	case "http":
		var s httpSettings
		if err := decodeSettings(p.Settings, &s); err != nil {
			return nil, err
		}
		timeout, err := seconds(s.Timeout)
		if err != nil {
			return nil, err
		}
		url := s.URL
		if url == "" {
			return nil, models.Errorf(models.Invalid, "http provider: settings need a url")
		}
		if strings.HasPrefix(url, "/") {
			if p.Host == "" {
				return nil, models.Errorf(models.Invalid, "http provider: the url %q is a path, so the provider needs a host", url)
			}
			host := p.Host
			if p.Port != 0 {
				host = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
			}
			url = "http://" + host + url
		}
		cfg := HTTPConfig{URL: url, Method: s.Method, Body: s.Body, ContentType: s.ContentType, From: s.From,
			Success: s.Success, Timeout: timeout, Username: p.Username, Password: p.Password}
		if s.Header != "" {
			cfg.Header, cfg.HeaderValue, cfg.Password = s.Header, p.Password, ""
		}
		h, err := NewHTTPSMS(cfg)
		if err != nil {
			return nil, err
		}
		g = h
	case "sip", "smpp", "emailcmd":
		if sim == nil {
			return nil, fmt.Errorf("gateway: provider type %s needs the simulator, and none was given", p.Type)
		}
		if p.Type == "emailcmd" {
			return sim, nil
		}
		g = sim
	default:
		return nil, models.Errorf(models.Invalid, "provider type %q has no gateway", p.Type)
	}
	if p.Prefix != "" {
		g = prefixed{Gateway: g, prefix: p.Prefix}
	}
	return g, nil
}

// decodeSettings reads a provider's settings into v; an empty string is an empty object.
func decodeSettings(settings string, v any) error {
	if strings.TrimSpace(settings) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(settings))
	dec.DisallowUnknownFields() // a misspelt key would otherwise be ignored in silence
	if err := dec.Decode(v); err != nil {
		return models.Errorf(models.Invalid, "provider settings must be a JSON object with known keys: %v", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return models.Errorf(models.Invalid, "provider settings must be one JSON object")
	}
	return nil
}

// seconds converts a settings timeout; 0 leaves the gateway's default.
func seconds(s float64) (time.Duration, error) {
	if s < 0 || s > 3600 || math.IsNaN(s) {
		return 0, models.Errorf(models.Invalid, "provider settings: timeout must be between 0 and 3600 seconds")
	}
	return time.Duration(s * float64(time.Second)), nil
}

// prefixed puts a dialling prefix before the number of phone messages.
type prefixed struct {
	Gateway
	prefix string
}

func (p prefixed) Send(ctx context.Context, m Message) (Result, error) {
	if m.Service != Email && m.To != "" {
		m.To = p.prefix + m.To
	}
	return p.Gateway.Send(ctx, m)
}
