// Package contracttest walks every operation of every contract with requests built from its schemas and
// mutations of them, and holds Switchboard to the contract: no 5xx but the documented 501 of operations
// not built yet, no response the contract does not describe, no route outside the contract.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"switchboard/apitest"
	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

var apis = []string{"ictcore", "collect", "cim", "ucontact", "platform", "accolades-api"}

// variant is one request the walker sends.
type variant struct {
	name   string
	path   string
	query  url.Values
	header http.Header
	body   []byte
	ctype  string
}

func TestContractWalker(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		env := apitest.New(t, kind)
		token := ictcoreToken(t, env)
		collectTok := collectToken(t, env)
		statuses := map[int]int{}
		notBuilt := map[string]bool{}
		sent := 0
		var failures []string
		for _, api := range apis {
			doc, err := apitest.Contract(api)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range doc.Paths.InMatchingOrder() {
				item := doc.Paths.Value(path)
				for method, op := range item.Operations() {
					for _, v := range variants(item, op, path) {
						for _, authed := range []bool{true, false} {
							req := v.request(api, method)
							// The ICTCore admin's token opens the platform API too.
							if authed && (api == "ictcore" || api == "platform") {
								req.Header.Set("Authorization", "Bearer "+token)
							}
							// Collect! takes its own operator's token, of cv_masterdb: the database the walker's
							// x-collect-database names. Logout ends a session, so each logout gets a fresh one.
							if authed && api == "collect" {
								tok := collectTok
								if op.OperationID == "logout" {
									tok = collectToken(t, env)
								}
								req.Header.Set("Authorization", "Bearer "+tok)
							}
							resp, err := env.Check(req)
							sent++
							statuses[resp.Status]++
							where := fmt.Sprintf("%s %s %s [%s, auth=%v]", api, method, req.Path, v.name, authed)
							switch {
							case err != nil:
								failures = append(failures, where+": "+err.Error())
							case resp.Status == http.StatusNotImplemented:
								notBuilt[api+"."+op.OperationID] = true
							case resp.Status >= 500:
								failures = append(failures, fmt.Sprintf("%s: %d %s", where, resp.Status, resp.Body))
							case !resp.Documented:
								failures = append(failures, fmt.Sprintf("%s: answered outside the contract (%d)", where, resp.Status))
							}
						}
					}
				}
			}
		}
		t.Logf("sent %d requests; statuses %v; %d operations answered 501 (not built yet)", sent, statuses, len(notBuilt))
		failures = append(failures, checkStatusTable(t, notBuilt)...)
		sort.Strings(failures)
		for i, f := range failures {
			if i == 40 {
				t.Errorf("… and %d more", len(failures)-40)
				break
			}
			t.Error(f)
		}
	})
}

// checkStatusTable holds the README's status table to what the server answered: an operation is listed
// "not implemented" exactly when it answered 501, and every operation of every contract is listed.
func checkStatusTable(t *testing.T, notBuilt map[string]bool) []string {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(raw), "<!-- status:begin -->")
	table, _, _ = strings.Cut(table, "<!-- status:end -->")
	listed := map[string]bool{} // api.operationId → built
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 4 || strings.HasPrefix(strings.TrimSpace(cells[0]), "-") || strings.TrimSpace(cells[0]) == "API" {
			continue
		}
		key := strings.TrimSpace(cells[0]) + "." + strings.TrimSpace(cells[1])
		listed[key] = strings.TrimSpace(cells[3]) == "built"
	}
	var out []string
	for _, api := range apis {
		doc, _ := apitest.Contract(api)
		for _, path := range doc.Paths.InMatchingOrder() {
			for _, op := range doc.Paths.Value(path).Operations() {
				key := api + "." + op.OperationID
				built, ok := listed[key]
				switch {
				case !ok:
					out = append(out, "README status table does not list "+key)
				case built && notBuilt[key]:
					out = append(out, "README lists "+key+" as built, but it answered 501")
				case !built && !notBuilt[key]:
					out = append(out, "README lists "+key+" as not implemented, but it never answered 501")
				}
				delete(listed, key)
			}
		}
	}
	for key := range listed {
		out = append(out, "README status table lists "+key+", which no contract has")
	}
	return out
}

func ictcoreToken(t *testing.T, env *apitest.Env) string {
	r := env.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": "admin", "password": apitest.AdminPassword}),
		Header: apitest.Headers("Content-Type", "application/json")})
	var tok struct{ Token string }
	r.JSON(t, &tok)
	return tok.Token
}

// collectToken answers a Collect! access token of the operator WALK of cv_masterdb, made the first time.
// It logs in through the store's sessions with a guard of its own: the walker's failed logins throttle its
// address on the server's guard, and this login must not depend on that.
func collectToken(t *testing.T, env *apitest.Env) string {
	ctx := context.Background()
	d, err := collect.FindDatabase(ctx, env.DB, collect.DefaultDatabase)
	if models.KindOf(err) == models.NotFound {
		if d, err = collect.CreateDatabase(ctx, env.DB, collect.DefaultDatabase); err == nil {
			opID, pw := "WALK", "walk"
			_, err = collect.CreateOperator(ctx, env.DB, d.Scope(), collect.OperatorFields{OpID: &opID, Password: &pw})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	_, toks, err := collect.NewSessions(env.DB, auth.NewGuard(auth.GuardConfig{}), nil).Login(ctx, d.Name, "WALK", "walk", "")
	if err != nil {
		t.Fatal(err)
	}
	return toks.Access
}

func (v variant) request(api, method string) apitest.Request {
	p := "/" + api + v.path
	if len(v.query) > 0 {
		p += "?" + v.query.Encode()
	}
	h := v.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	var body *bytes.Reader
	if v.body != nil {
		body = bytes.NewReader(v.body)
		h.Set("Content-Type", v.ctype)
		if v.ctype == "multipart/form-data" {
			h.Set("Content-Type", v.ctype+"; boundary="+walkerBoundary)
		}
	}
	req := apitest.Request{Method: method, Path: p, Header: h}
	if body != nil {
		req.Body = body
	}
	return req
}

// variants answers the well-formed request for an operation and its mutations.
func variants(item *openapi3.PathItem, op *openapi3.Operation, path string) []variant {
	params := append(openapi3.Parameters{}, item.Parameters...)
	params = append(params, op.Parameters...)
	pathVals := map[string]string{}
	base := variant{name: "valid", query: url.Values{}, header: http.Header{}}
	for _, pr := range params {
		p := pr.Value
		val := fmt.Sprint(sample(p.Schema.Value, 0))
		switch p.In {
		case "path":
			pathVals[p.Name] = val
		case "query":
			base.query.Set(p.Name, val)
		case "header":
			base.header.Set(p.Name, val)
		}
	}
	base.path = fillPath(path, pathVals)
	var bodySchema *openapi3.Schema
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		base.ctype, bodySchema = pickContent(op.RequestBody.Value.Content)
		base.body = encode(base.ctype, sample(bodySchema, 0))
	}
	out := []variant{base}
	add := func(name string, change func(v *variant)) {
		v := base
		v.name = name
		v.query = cloneValues(base.query)
		v.header = base.header.Clone()
		change(&v)
		out = append(out, v)
	}
	// Bad path ids and values.
	for name := range pathVals {
		for _, bad := range []string{"abc", "0", "-1", "99999999999999999999", strings.Repeat("z", 300)} {
			add("path "+name+"="+bad[:min(len(bad), 12)], func(v *variant) {
				vals := copyMap(pathVals)
				vals[name] = url.PathEscape(bad)
				v.path = fillPath(path, vals)
			})
		}
	}
	// Query parameters of the wrong type, out of range, or oversized.
	for _, pr := range params {
		p := pr.Value
		if p.In != "query" || p.Schema == nil || p.Schema.Value == nil {
			continue
		}
		for _, bad := range []string{"not-a-number", "-5", "99999999999999999999", strings.Repeat("q", 5000)} {
			add("query "+p.Name+" bad", func(v *variant) { v.query.Set(p.Name, bad) })
		}
	}
	if bodySchema == nil {
		return out
	}
	obj, isObj := sample(bodySchema, 0).(map[string]any)
	if !isObj || !(strings.Contains(base.ctype, "json") || strings.Contains(base.ctype, "form")) {
		add("empty body", func(v *variant) { v.body = []byte{} })
		return out
	}
	add("malformed body", func(v *variant) { v.body = []byte("{\"unterminated") })
	add("empty object", func(v *variant) { v.body = encode(base.ctype, map[string]any{}) })
	add("unknown field", func(v *variant) { v.body = encode(base.ctype, with(obj, "zz_unknown_field", "x")) })
	for _, name := range sortedKeys(bodySchema.Properties) {
		ps := bodySchema.Properties[name].Value
		if ps == nil {
			continue
		}
		add("wrong type "+name, func(v *variant) { v.body = encode(base.ctype, with(obj, name, wrongType(ps))) })
		add("oversized "+name, func(v *variant) { v.body = encode(base.ctype, with(obj, name, strings.Repeat("x", 70000))) })
		if len(ps.Enum) > 0 {
			add("bad enum "+name, func(v *variant) { v.body = encode(base.ctype, with(obj, name, "not-in-enum")) })
		}
	}
	for _, name := range bodySchema.Required {
		add("missing "+name, func(v *variant) {
			m := with(obj, "", nil)
			delete(m, name)
			v.body = encode(base.ctype, m)
		})
	}
	return out
}

// pickContent prefers JSON, then forms, then whatever the contract lists first.
func pickContent(c openapi3.Content) (string, *openapi3.Schema) {
	keys := sortedKeys(c)
	for _, pref := range []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"} {
		if mt, ok := c[pref]; ok && mt.Schema != nil {
			return pref, mt.Schema.Value
		}
	}
	ct := keys[0]
	if strings.Contains(ct, "*") {
		ct = "application/octet-stream"
	}
	var s *openapi3.Schema
	if mt := c[keys[0]]; mt.Schema != nil {
		s = mt.Schema.Value
	}
	return ct, s
}

func encode(ctype string, v any) []byte {
	switch {
	case strings.Contains(ctype, "json"):
		b, _ := json.Marshal(v)
		return b
	case ctype == "application/x-www-form-urlencoded":
		return []byte(formValues(v).Encode())
	case ctype == "multipart/form-data":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		_ = w.SetBoundary(walkerBoundary)
		for k, vs := range formValues(v) {
			for _, s := range vs {
				_ = w.WriteField(k, s)
			}
		}
		_ = w.Close()
		return buf.Bytes()
	}
	return []byte("\"123\"\n")
}

// walkerBoundary separates the parts of every multipart body the walker sends.
const walkerBoundary = "switchboard-walker-boundary"

func formValues(v any) url.Values {
	out := url.Values{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			switch x.(type) {
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				out.Set(k, string(b))
			default:
				out.Set(k, fmt.Sprint(x))
			}
		}
	}
	return out
}

func fillPath(path string, vals map[string]string) string {
	for k, v := range vals {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	if k != "" {
		out[k] = v
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
