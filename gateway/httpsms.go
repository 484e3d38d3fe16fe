package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchboard/models"
)

// The body content types the HTTP SMS gateway knows how to escape placeholders for.
const (
	FormContentType = "application/x-www-form-urlencoded"
	JSONContentType = "application/json"
)

// HTTPConfig sets up a Kannel-style HTTP SMS gateway. URL and Body are templates whose placeholders
// {to}, {from}, {text}, {ref}, {username} and {password} are replaced by the message's values, escaped
// for where they land: path-escaped before the URL's "?", query-escaped after it, and in the body escaped
// for ContentType (form fields or JSON string contents: write "{text}" inside quotes). A value is never
// scanned again, so a text containing "{to}" stays as it is.
type HTTPConfig struct {
	URL         string // e.g. http://kannel:13013/cgi-bin/sendsms?to={to}&from={from}&text={text}
	Method      string // GET or POST; empty: POST when Body is set, else GET
	Body        string // body template; empty: no body
	ContentType string // FormContentType or JSONContentType; empty: form when Body is set
	From        string // sender id when Message.From is empty
	// Username and Password are sent as Basic auth, unless Header is set or a template uses {password}.
	Username, Password string
	// Header names a header (e.g. X-Api-Key) that carries HeaderValue, for gateways keyed by a token.
	Header, HeaderValue string
	// Success, when set, must appear in a 2xx answer's first KiBs (e.g. Kannel's "Accepted"); a 2xx
	// answer without it is Failed.
	Success string
	Timeout time.Duration // bounds one whole Send; 0: 30 seconds
	// Client sends the requests; nil: a client of its own. It is copied so as not to follow redirects:
	// a redirect would carry the credentials to another address.
	Client *http.Client
}

// HTTPSMS sends SMS through an HTTP gateway such as Kannel's sendsms.
type HTTPSMS struct {
	cfg       HTTPConfig
	client    *http.Client
	basicAuth bool
	secrets   []string // values scrubbed from anything this gateway answers
	where     string   // scheme://host/path, what errors show of the URL (never its query)
}

var _ Gateway = (*HTTPSMS)(nil)

// Bounds on what is read of an answer and what of it goes into Result.Response.
const (
	maxAnswerRead = 4 << 10
	maxAnswerKept = 512
)

// NewHTTPSMS checks cfg and answers the gateway, or an error of kind Invalid.
func NewHTTPSMS(cfg HTTPConfig) (*HTTPSMS, error) {
	if cfg.URL == "" {
		return nil, models.Errorf(models.Invalid, "http sms: url is required")
	}
	cfg.Method = strings.ToUpper(cfg.Method)
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
		if cfg.Body != "" {
			cfg.Method = http.MethodPost
		}
	}
	if cfg.Method != http.MethodGet && cfg.Method != http.MethodPost {
		return nil, models.Errorf(models.Invalid, "http sms: method must be GET or POST, not %q", cfg.Method)
	}
	if cfg.Body != "" && cfg.ContentType == "" {
		cfg.ContentType = FormContentType
	}
	if cfg.ContentType != "" && cfg.ContentType != FormContentType && cfg.ContentType != JSONContentType {
		return nil, models.Errorf(models.Invalid, "http sms: content type must be %s or %s, not %q", FormContentType, JSONContentType, cfg.ContentType)
	}
	if cfg.Header != "" && !validHeaderName(cfg.Header) {
		return nil, models.Errorf(models.Invalid, "http sms: %q is not a header name", cfg.Header)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	g := &HTTPSMS{cfg: cfg}
	u, err := url.Parse(g.expandURL(map[string]string{"to": "1", "from": "1", "text": "t", "ref": "r", "username": "u", "password": "p"}))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, models.Errorf(models.Invalid, "http sms: url must be an absolute http or https address")
	}
	g.where = u.Scheme + "://" + u.Host + u.Path
	usesPassword := strings.Contains(cfg.URL, "{password}") || strings.Contains(cfg.Body, "{password}")
	g.basicAuth = cfg.Header == "" && !usesPassword && (cfg.Username != "" || cfg.Password != "")
	for _, s := range []string{cfg.Password, cfg.HeaderValue} {
		if s != "" {
			g.secrets = append(g.secrets, s, url.QueryEscape(s), url.PathEscape(s))
		}
	}
	client := &http.Client{Transport: smsTransport}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	g.client = client
	return g, nil
}

// smsTransport is shared by every HTTP SMS gateway: a gateway is built per attempt, and the default
// transport keeps only 2 idle connections per host, so most of the queue's concurrent attempts opened
// a new connection to the SMS gateway.
var smsTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}()

// validHeaderName reports whether s is an HTTP token, so a header name cannot smuggle anything in.
func validHeaderName(s string) bool {
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// Name answers "http-sms".
func (g *HTTPSMS) Name() string { return "http-sms" }

// Send submits m. 2xx (with Success in the answer, when set) is Delivered; 408, 429, 5xx and network
// errors answer an error; any other answer (4xx, a redirect, which is not followed) is Failed.
func (g *HTTPSMS) Send(ctx context.Context, m Message) (Result, error) {
	start := time.Now()
	if m.Service != SMS {
		return refuse("the http sms gateway carries sms only, not %s", m.Service), nil
	}
	if m.To == "" {
		return refuse("no recipient"), nil
	}
	from := m.From
	if from == "" {
		from = g.cfg.From
	}
	vals := map[string]string{"to": m.To, "from": from, "text": m.Body, "ref": m.Ref,
		"username": g.cfg.Username, "password": g.cfg.Password}

	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if g.cfg.Body != "" {
		body = strings.NewReader(expand(g.cfg.Body, vals, g.bodyEscape))
	}
	req, err := http.NewRequestWithContext(ctx, g.cfg.Method, g.expandURL(vals), body)
	if err != nil {
		// The template parsed with plain values, so only a message value can break it.
		return refuse("the message does not fit the url template"), nil
	}
	if g.cfg.ContentType != "" && body != nil {
		req.Header.Set("Content-Type", g.cfg.ContentType)
	}
	if g.cfg.Header != "" {
		req.Header.Set(g.cfg.Header, g.cfg.HeaderValue)
	}
	if g.basicAuth {
		req.SetBasicAuth(g.cfg.Username, g.cfg.Password)
	}

	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("http sms %s %s: %w", g.cfg.Method, g.where, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, query and secrets included
		}
		return Result{}, fmt.Errorf("http sms %s %s: %w", g.cfg.Method, g.where, g.scrubErr(err))
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswerRead))
	res := Result{Duration: time.Since(start)}
	res.Response = g.scrub(excerpt(resp.Proto+" "+resp.Status+"\n"+string(answer), maxAnswerKept))

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if readErr != nil {
			return Result{}, fmt.Errorf("http sms %s %s: reading the answer: %w", g.cfg.Method, g.where, readErr)
		}
		if g.cfg.Success != "" && !strings.Contains(string(answer), g.cfg.Success) {
			res.Status, res.Reason = Failed, fmt.Sprintf("the answer does not contain %q", g.cfg.Success)
			return res, nil
		}
		res.Status = Delivered
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return Result{}, fmt.Errorf("http sms %s %s: %s", g.cfg.Method, g.where, g.scrub(resp.Status))
	case code >= 300 && code < 400:
		res.Status, res.Reason = Failed, "the gateway answered a redirect, which is not followed"
	default:
		res.Status, res.Reason = Failed, "the gateway refused the message: "+g.scrub(resp.Status)
	}
	return res, nil
}

// expandURL fills the URL template: placeholders before "?" are path-escaped, after it query-escaped.
func (g *HTTPSMS) expandURL(vals map[string]string) string {
	path, query, hasQuery := strings.Cut(g.cfg.URL, "?")
	s := expand(path, vals, url.PathEscape)
	if hasQuery {
		s += "?" + expand(query, vals, url.QueryEscape)
	}
	return s
}

// bodyEscape escapes a value for the body's content type.
func (g *HTTPSMS) bodyEscape(s string) string {
	if g.cfg.ContentType == JSONContentType {
		b, _ := json.Marshal(s) // a string always marshals
		return string(b[1 : len(b)-1])
	}
	return url.QueryEscape(s)
}

// expand replaces each {name} of tmpl in one pass, so substituted values are never expanded again.
// It scans tmpl itself: a strings.Replacer built per message was a tenth of the sends bench's client CPU.
func expand(tmpl string, vals map[string]string, escape func(string) string) string {
	var b strings.Builder
	b.Grow(len(tmpl) + 64)
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:open])
		tmpl = tmpl[open:]
		if end := strings.IndexByte(tmpl, '}'); end > 0 {
			if v, ok := vals[tmpl[1:end]]; ok {
				b.WriteString(escape(v))
				tmpl = tmpl[end+1:]
				continue
			}
		}
		b.WriteByte('{') // not a name: kept, and the scan goes on after it
		tmpl = tmpl[1:]
	}
}

// scrub removes the password and API key from s, should the far end echo them back.
func (g *HTTPSMS) scrub(s string) string {
	for _, secret := range g.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

func (g *HTTPSMS) scrubErr(err error) error {
	if msg := err.Error(); g.scrub(msg) != msg {
		return errors.New(g.scrub(msg))
	}
	return err
}
