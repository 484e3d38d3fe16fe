package collect_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
)

// part is one part of a multipart upload: a plain field (json) or a file.
type part struct{ name, filename, body string }

// multipartBody builds a multipart/form-data body of parts in their order.
func multipartBody(t *testing.T, parts ...part) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &buf
}

// upload sends an upload of parts with the session's database and token.
func (r *records) upload(t *testing.T, parts ...part) *apitest.Response {
	t.Helper()
	ct, body := multipartBody(t, parts...)
	h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok, "Content-Type", ct)
	return r.e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/collect/api/v1/collect/app/upload", Header: h, Body: body})
}

// uploaded is UploadResult.
type uploaded struct {
	Status           int    `json:"status"`
	RecordType       string `json:"recordType"`
	FileName         string `json:"fileName"`
	FileNumber       int64  `json:"fileNumber"`
	AttachmentRecord string `json:"attachmentRecord"`
	AttachmentRowid  int64  `json:"attachmentRowid"`
}

func (r *records) uploadOK(t *testing.T, jsonPart, filename, content string) uploaded {
	t.Helper()
	resp := r.upload(t, part{name: "json", body: jsonPart}, part{name: "file", filename: filename, body: content})
	var out uploaded
	resp.JSON(t, &out)
	if resp.Status != http.StatusOK || out.Status != 200 {
		t.Fatalf("upload %s: %d %s", jsonPart, resp.Status, resp.Body)
	}
	return out
}

// download fetches a file with the session's database and token.
func (r *records) download(t *testing.T, query string) *apitest.Response {
	t.Helper()
	h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok)
	return r.e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/app/download?" + query, Header: h})
}

func TestFileUploadDownload(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{MediaMax: 1 << 20})
		r := e.setup(t, "cv_demodb")
		debtor := r.create(t, "debtor", 0, `{"de_name":"Smith"}`).Data["de_rowid"]

		// Byte-exact round trip of binary content (every byte value, more than one blob chunk on Postgres).
		content := make([]byte, 700<<10)
		if _, err := rand.Read(content); err != nil {
			t.Fatal(err)
		}
		up := r.uploadOK(t, `{"debtor": `+debtor+`,"overwrite": "yes"}`, "Test.txt", string(content))
		if up.RecordType != "debtor" || up.FileName != "Test.txt" || fmt.Sprint(up.FileNumber) != debtor ||
			up.AttachmentRecord != "attachment" || up.AttachmentRowid < 1 {
			t.Fatalf("upload: %+v", up)
		}
		got := r.download(t, fmt.Sprintf("record=attachment&rowid=%d", up.AttachmentRowid))
		if got.Status != http.StatusOK || !bytes.Equal(got.Body, content) {
			t.Fatalf("download: %d, %d bytes, equal %v", got.Status, len(got.Body), bytes.Equal(got.Body, content))
		}
		if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := got.Header.Get("Content-Disposition"); cd != `attachment; filename=Test.txt` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		// field: the record's one attachment field, or another field (400).
		if got := r.download(t, fmt.Sprintf("record=attachment&rowid=%d&field=at_file", up.AttachmentRowid)); got.Status != 200 {
			t.Fatalf("field at_file: %d", got.Status)
		}
		expectError(t, r.download(t, fmt.Sprintf("record=attachment&rowid=%d&field=at_file_2", up.AttachmentRowid)), 400, "not an attachment field")

		// overwrite: no refuses an existing name (409) and stores nothing; inc stores Test-2.txt, then
		// Test-3.txt; yes replaces the content under the same attachment rowid; a missing overwrite is no.
		expectError(t, r.upload(t, part{name: "json", body: `{"debtor": ` + debtor + `,"overwrite": "no"}`},
			part{name: "file", filename: "Test.txt", body: "other"}), 409, "has a file Test.txt already")
		expectError(t, r.upload(t, part{name: "json", body: `{"debtor": "` + debtor + `"}`},
			part{name: "file", filename: "Test.txt", body: "other"}), 409, "has a file Test.txt already")
		inc := r.uploadOK(t, `{"debtor": `+debtor+`,"overwrite": "inc"}`, "Test.txt", "second")
		inc3 := r.uploadOK(t, `{"debtor": `+debtor+`,"overwrite": "inc"}`, "Test.txt", "third")
		if inc.FileName != "Test-2.txt" || inc3.FileName != "Test-3.txt" || inc.AttachmentRowid == up.AttachmentRowid {
			t.Fatalf("inc: %+v %+v", inc, inc3)
		}
		yes := r.uploadOK(t, `{"debtor": `+debtor+`,"overwrite": "yes"}`, "Test.txt", "replaced")
		if yes.AttachmentRowid != up.AttachmentRowid || yes.FileName != "Test.txt" {
			t.Fatalf("yes: %+v", yes)
		}
		if got := r.download(t, fmt.Sprintf("record=attachment&rowid=%d", up.AttachmentRowid)); string(got.Body) != "replaced" {
			t.Fatalf("after overwrite: %q", got.Body)
		}
		if got := r.download(t, fmt.Sprintf("record=attachment&rowid=%d", inc.AttachmentRowid)); string(got.Body) != "second" ||
			got.Header.Get("Content-Disposition") != "attachment; filename=Test-2.txt" {
			t.Fatalf("inc download: %q %v", got.Body, got.Header)
		}

		// An operator's file; unknown extensions download as octet-stream.
		op := r.uploadOK(t, `{"operator": 1,"overwrite": "no"}`, "scan.zzq", "op file")
		if op.AttachmentRecord != "op_attachment" || op.FileNumber != 1 {
			t.Fatalf("operator upload: %+v", op)
		}
		got = r.download(t, fmt.Sprintf("record=op_attachment&rowid=%d", op.AttachmentRowid))
		if got.Status != 200 || string(got.Body) != "op file" || got.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("operator download: %d %q %q", got.Status, got.Body, got.Header.Get("Content-Type"))
		}
		// The attachment rowid of a debtor's file is not an op_attachment (nor a cl_attachment).
		expectError(t, r.download(t, fmt.Sprintf("record=op_attachment&rowid=%d", up.AttachmentRowid)), 404, "not found")
		expectError(t, r.download(t, fmt.Sprintf("record=contact&rowid=%d", up.AttachmentRowid)), 404, "holds no files")
		expectError(t, r.download(t, "record=attachment&rowid=999999"), 404, "not found")

		// Rows that are not there: 404 before the file is read.
		expectError(t, r.uploadNotFound(t, `{"debtor": 999999}`), 404, "debtor 999999 not found")
		expectError(t, r.uploadNotFound(t, `{"client": 1}`), 404, "record client not found")
		expectError(t, r.uploadNotFound(t, `{"operator": 999999}`), 404, "not found")

		// Bad requests: parts in the wrong order, a missing or bad json part, two files, a path as name.
		bad := map[string][]part{
			"the first part must be the json field": {{name: "file", filename: "a.txt", body: "x"}, {name: "json", body: `{"debtor": ` + debtor + `}`}},
			"the file part is missing":              {{name: "json", body: `{"debtor": ` + debtor + `}`}},
			"not a JSON object":                     {{name: "json", body: `[1]`}, {name: "file", filename: "a.txt", body: "x"}},
			"data after its JSON value":             {{name: "json", body: `{"debtor": 1} {}`}, {name: "file", filename: "a.txt", body: "x"}},
			`overwrite must be`:                     {{name: "json", body: `{"debtor": 1, "overwrite": "maybe"}`}, {name: "file", filename: "a.txt", body: "x"}},
			"names no record":                       {{name: "json", body: `{"overwrite": "yes"}`}, {name: "file", filename: "a.txt", body: "x"}},
			`unknown key "cosigner"`:                {{name: "json", body: `{"cosigner": 1}`}, {name: "file", filename: "a.txt", body: "x"}},
			"positive integer":                      {{name: "json", body: `{"debtor": -1}`}, {name: "file", filename: "a.txt", body: "x"}},
			"a part follows the file part": {{name: "json", body: `{"debtor": ` + debtor + `, "overwrite": "inc"}`},
				{name: "file", filename: "a.txt", body: "x"}, {name: "file", filename: "b.txt", body: "y"}},
		}
		for msg, parts := range bad {
			expectError(t, r.upload(t, parts...), 400, msg)
		}
		// A path is cut to its base name.
		if got := r.uploadOK(t, `{"debtor": `+debtor+`}`, `..\..\evil/notes.pdf`, "%PDF-1.4"); got.FileName != "notes.pdf" {
			t.Fatalf("base name: %+v", got)
		}
		// The request had to be multipart (415 from the contract middleware otherwise).
		h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok, "Content-Type", "application/json")
		if got := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/collect/api/v1/collect/app/upload", Header: h,
			Body: strings.NewReader(`{}`)}); got.Status < 400 {
			t.Fatalf("JSON upload: %d", got.Status)
		}

		// Over the limit (1 MiB here): 413, nothing stored, the name still free.
		big := strings.Repeat("x", 1<<20+1)
		expectError(t, r.upload(t, part{name: "json", body: `{"debtor": ` + debtor + `}`}, part{name: "file", filename: "big.bin", body: big}),
			413, "larger than")
		if got := r.uploadOK(t, `{"debtor": `+debtor+`, "overwrite": "no"}`, "big.bin", "small"); got.FileName != "big.bin" {
			t.Fatalf("after 413: %+v", got)
		}

		// Deleting the debtor deletes its files' rows (and their blobs, after the commit).
		var files int64
		e.DB.Raw("SELECT COUNT(*) FROM collect_files WHERE record = 'debtor'").Scan(&files)
		if got := r.do(t, http.MethodDelete, "/debtor/"+debtor, ""); got.Status != 200 {
			t.Fatalf("delete the debtor: %d %s", got.Status, got.Body)
		}
		expectError(t, r.download(t, fmt.Sprintf("record=attachment&rowid=%d", inc.AttachmentRowid)), 404, "not found")
		var left int64
		e.DB.Raw("SELECT COUNT(*) FROM collect_files WHERE record = 'debtor'").Scan(&left)
		if files == 0 || left != 0 {
			t.Fatalf("files before %d, a deleted debtor's left %d", files, left)
		}

		// Without a token: 401.
		h = apitest.Headers("x-collect-database", r.database)
		expectError(t, e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/app/download?record=attachment&rowid=1", Header: h}), 401, "")
	})
}

// uploadNotFound uploads a small file with the json part given.
func (r *records) uploadNotFound(t *testing.T, jsonPart string) *apitest.Response {
	t.Helper()
	return r.upload(t, part{name: "json", body: jsonPart}, part{name: "file", filename: "a.txt", body: "x"})
}

func TestFilesIsolatedBetweenDatabases(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		a, b := e.setup(t, "cv_a"), e.setup(t, "cv_b")
		da := a.create(t, "debtor", 0, `{"de_name":"A"}`).Data["de_rowid"]
		up := a.uploadOK(t, `{"debtor": `+da+`}`, "secret.txt", "database A only")
		// B sees neither A's file nor A's debtor, by rowid.
		expectError(t, b.download(t, fmt.Sprintf("record=attachment&rowid=%d", up.AttachmentRowid)), 404, "not found")
		expectError(t, b.uploadNotFound(t, `{"debtor": `+da+`}`), 404, "not found")
		// B's token with A's header is refused; A still reads its file.
		h := apitest.Headers("x-collect-database", "cv_a", "Authorization", "Bearer "+b.tok)
		expectError(t, e.Do(t, apitest.Request{Method: http.MethodGet, Header: h,
			Path: fmt.Sprintf("/collect/api/v1/collect/app/download?record=attachment&rowid=%d", up.AttachmentRowid)}), 401, "")
		if got := a.download(t, fmt.Sprintf("record=attachment&rowid=%d", up.AttachmentRowid)); string(got.Body) != "database A only" {
			t.Fatalf("A: %d %q", got.Status, got.Body)
		}
	})
}
