package ictcore_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"mime"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
)

// send sends a raw body with a Content-Type ("" sends none).
func (e *ictEnv) send(t testing.TB, method, path, contentType string, body []byte) *apitest.Response {
	t.Helper()
	h := apitest.Headers("Authorization", "Bearer "+e.token)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return e.Do(t, apitest.Request{Method: method, Path: "/ictcore" + path, Body: bytes.NewReader(body), Header: h})
}

// randomBytes answers n reproducible pseudo-random bytes after prefix.
func randomBytes(prefix string, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := []byte(prefix)
	for len(b) < len(prefix)+n {
		b = binary.LittleEndian.AppendUint64(b, r.Uint64())
	}
	return b[:len(prefix)+n]
}

// wav answers a PCM WAV file: 8 kHz, mono, 16 bits, of the given seconds.
func wav(seconds int) []byte {
	data := seconds * 8000 * 2
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	b.Write(make([]byte, data))
	return b.Bytes()
}

// expectDownload checks a media download: status 200, media type, attachment name and the exact bytes.
func (e *ictEnv) expectDownload(t *testing.T, path, mediaType, filename string, want []byte) {
	t.Helper()
	r := e.call(t, "GET", path, nil)
	disposition, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
	if r.Status != 200 || r.Header.Get("Content-Type") != mediaType || !bytes.Equal(r.Body, want) ||
		disposition != "attachment" || params["filename"] != filename {
		t.Fatalf("download %s: %d %s %s, %d bytes (want %d, equal %v)", path, r.Status, r.Header.Get("Content-Type"),
			r.Header.Get("Content-Disposition"), len(r.Body), len(want), bytes.Equal(r.Body, want))
	}
}

// TestDocumentMedia: a document's file round-trips byte for byte through PUT and POST, its type follows
// its content, a refused upload (wrong type, empty, too large) leaves the stored file as it was, and a
// deleted document takes its file along.
func TestDocumentMedia(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{MediaMax: 1 << 20})
		id := created(t, e.call(t, "POST", "/messages/documents", map[string]any{"name": "Invoice 42"}), "document_id")
		path := fmt.Sprintf("/messages/documents/%d/media", id)
		item := fmt.Sprintf("/messages/documents/%d", id)
		if r := e.call(t, "GET", path, nil); r.Status != 404 {
			t.Fatalf("download before any upload: %d %s", r.Status, r.Body)
		}
		pdf := randomBytes("%PDF-1.4\n", 700_000)
		if r := e.send(t, "PUT", path, "application/pdf", pdf); r.Status != 200 || !strings.Contains(string(r.Body), fmt.Sprintf(`"document_id":%d`, id)) {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		var doc struct{ Type string }
		e.call(t, "GET", item, nil).JSON(t, &doc)
		if doc.Type != "pdf" {
			t.Fatalf("type after a PDF upload: %q", doc.Type)
		}
		e.expectDownload(t, path, "application/pdf", "Invoice 42.pdf", pdf)

		// A PNG declared as PDF is a png; POST is the same upload.
		png := randomBytes("\x89PNG\r\n\x1a\n", 5000)
		if r := e.send(t, "POST", path, "application/pdf", png); r.Status != 200 {
			t.Fatalf("POST upload: %d %s", r.Status, r.Body)
		}
		e.call(t, "GET", item, nil).JSON(t, &doc)
		if doc.Type != "png" {
			t.Fatalf("type after a PNG upload: %q", doc.Type)
		}
		e.expectDownload(t, path, "image/png", "Invoice 42.png", png)

		for _, c := range []struct {
			name, contentType string
			body              []byte
			status            int
		}{
			{"wrong type", "text/plain", []byte("hello"), 415},
			{"no type", "", []byte("hello"), 415},
			{"empty", "application/pdf", nil, 412},
			{"too large", "application/pdf", randomBytes("%PDF-", 1<<20), 413},
		} {
			r := e.send(t, "PUT", path, c.contentType, c.body)
			if code, _ := errorMessage(t, r); r.Status != c.status || code != c.status {
				t.Fatalf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
			}
			e.expectDownload(t, path, "image/png", "Invoice 42.png", png)
		}
		if r := e.send(t, "PUT", "/messages/documents/999/media", "application/pdf", pdf); r.Status != 404 {
			t.Fatalf("upload to a missing document: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "DELETE", item, nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", path, nil); r.Status != 404 {
			t.Fatalf("download after delete: %d", r.Status)
		}
		if kind == "postgres" {
			if n := e.storeCount(t, "SELECT COUNT(*) FROM blobs"); n != 0 {
				t.Fatalf("%d blobs left after the document went", n)
			}
		}
	})
}

// TestRecordingMedia: a WAV's audio properties are read from its header; MP3 is accepted under the
// reference code's names too.
func TestRecordingMedia(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/messages/recordings", map[string]any{"name": "welcome"}), "recording_id")
		path := fmt.Sprintf("/messages/recordings/%d/media", id)
		audio := wav(3)
		if r := e.send(t, "PUT", path, "audio/x-wav", audio); r.Status != 200 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		var rec struct {
			Type, Codec                      string
			Length, Channel, Sample, Bitrate int
		}
		e.call(t, "GET", fmt.Sprintf("/messages/recordings/%d", id), nil).JSON(t, &rec)
		if rec.Type != "wav" || rec.Codec != "pcm" || rec.Length != 3 || rec.Channel != 1 || rec.Sample != 8000 || rec.Bitrate != 16 {
			t.Fatalf("recording after a WAV upload: %+v", rec)
		}
		e.expectDownload(t, path, "audio/wav", "welcome.wav", audio)
		mp3 := randomBytes("ID3", 3000)
		if r := e.send(t, "POST", path, "audio/mpeg3", mp3); r.Status != 200 {
			t.Fatalf("mp3 upload: %d %s", r.Status, r.Body)
		}
		e.expectDownload(t, path, "audio/mpeg", "welcome.mp3", mp3)
		if r := e.send(t, "PUT", path, "application/pdf", mp3); r.Status != 415 {
			t.Fatalf("a PDF type on a recording: %d", r.Status)
		}
	})
}

// TestTemplateMedia: a template's attachment takes any media type and downloads as text/html, text/plain
// or application/octet-stream.
func TestTemplateMedia(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/messages/templates", map[string]any{"name": "offer", "subject": "S", "body": "b"}), "template_id")
		path := fmt.Sprintf("/messages/templates/%d/media", id)
		for _, c := range []struct{ sent, answered, filename string }{
			{"text/plain; charset=utf-8", "text/plain", "offer.txt"},
			{"text/html", "text/html", "offer.html"},
			{"image/gif", "application/octet-stream", "offer.gif"},
		} {
			body := []byte("attachment as " + c.sent)
			if r := e.send(t, "PUT", path, c.sent, body); r.Status != 200 {
				t.Fatalf("upload %s: %d %s", c.sent, r.Status, r.Body)
			}
			e.expectDownload(t, path, c.answered, c.filename, body)
		}
		var tpl struct{ Length int }
		e.call(t, "GET", fmt.Sprintf("/messages/templates/%d", id), nil).JSON(t, &tpl)
		if tpl.Length != len("attachment as image/gif") {
			t.Fatalf("length %d", tpl.Length)
		}
		if r := e.send(t, "PUT", path, "", []byte("x")); r.Status != 415 {
			t.Fatalf("no Content-Type: %d %s", r.Status, r.Body)
		}
	})
}

// TestMediaOwnership: another user can neither upload to nor download a user's files.
func TestMediaOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnv(t, kind)
		a, b := admin.asUser(t, "mediaa"), admin.asUser(t, "mediab")
		id := created(t, a.call(t, "POST", "/messages/documents", map[string]any{"name": "mine"}), "document_id")
		path := fmt.Sprintf("/messages/documents/%d/media", id)
		pdf := randomBytes("%PDF-1.4\n", 100)
		if r := a.send(t, "PUT", path, "application/pdf", pdf); r.Status != 200 {
			t.Fatalf("owner upload: %d %s", r.Status, r.Body)
		}
		if r := b.send(t, "PUT", path, "application/pdf", []byte("%PDF-stolen")); r.Status != 404 {
			t.Fatalf("other's upload: %d %s", r.Status, r.Body)
		}
		if r := b.call(t, "GET", path, nil); r.Status != 404 {
			t.Fatalf("other's download: %d", r.Status)
		}
		a.expectDownload(t, path, "application/pdf", "mine.pdf", pdf)
	})
}
