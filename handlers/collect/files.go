package collect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"switchboard/gen/collectapi"
	"switchboard/models"
	"switchboard/models/collect"
)

// Files (notes/vendors.md 1.8–1.9): an upload is a multipart form, its json part first, then its file part,
// which streams into the blob store (never held whole, at most fileMax bytes) before its row is recorded.
// The upload route skips the contract middleware's body buffering (server.isUpload: a multipart body with a
// binary part); this handler checks the parts itself.

// maxJSONPart is UploadRequest.json's maxLength.
const maxJSONPart = 1000

// uploadJSON is the json part read: the owner record and rowid, and the overwrite mode.
type uploadJSON struct {
	owner     string
	rowid     int64
	overwrite string
}

func badUpload(format string, args ...any) error {
	return models.Errorf(models.Invalid, "upload: "+format, args...)
}

// readUploadJSON reads the json part: {"<debtor|client|operator>": <rowid>, "overwrite": "yes|no|inc"}. The
// rowid may be a number or a string of digits (as read from a record); overwrite defaults to no, which
// never loses a file.
func readUploadJSON(p *multipart.Part) (uploadJSON, error) {
	var out uploadJSON
	if p.FormName() != "json" || p.FileName() != "" {
		return out, badUpload("the first part must be the json field (then the file part), got %q", p.FormName())
	}
	if ct := p.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/plain" && mt != "application/json") {
			return out, badUpload("the json part's Content-Type must be text/plain (or none), got %q", ct)
		}
	}
	raw, err := io.ReadAll(io.LimitReader(p, maxJSONPart+1))
	if err != nil {
		return out, badUpload("the json part could not be read: %v", err)
	}
	if len(raw) > maxJSONPart {
		return out, badUpload("the json part is longer than %d bytes", maxJSONPart)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return out, badUpload(`the json part is not a JSON object {"<debtor|client|operator>": <rowid>, "overwrite": "yes|no|inc"}`)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return out, badUpload("the json part has data after its JSON value")
	}
	out.overwrite = collect.OverwriteNo
	for k, v := range obj {
		switch {
		case k == "overwrite":
			s, ok := v.(string)
			if !ok || (s != collect.OverwriteYes && s != collect.OverwriteNo && s != collect.OverwriteInc) {
				return out, badUpload(`overwrite must be "yes", "no" or "inc"`)
			}
			out.overwrite = s
		case collect.Attachments[k].Record != "":
			if out.owner != "" {
				return out, badUpload("name one record: %s or %s", out.owner, k)
			}
			var text string
			switch n := v.(type) {
			case json.Number:
				text = n.String()
			case string:
				text = n
			}
			id, err := strconv.ParseInt(text, 10, 64)
			if err != nil || id < 1 || strings.TrimLeft(text, "0123456789") != "" {
				return out, badUpload("%s: the rowid must be a positive integer", k)
			}
			out.owner, out.rowid = k, id
		default:
			return out, badUpload("unknown key %q (files are uploaded to a debtor, client or operator)", k)
		}
	}
	if out.owner == "" {
		return out, badUpload(`the json part names no record: {"debtor"|"client"|"operator": <rowid>, …}`)
	}
	return out, nil
}

// fileName checks the file part's name: its base name, not empty, at most 255 bytes, no control character.
func fileName(p *multipart.Part) (string, error) {
	if p.FormName() != "file" || p.FileName() == "" {
		return "", badUpload("the second part must be the file part (form name file, with a filename), got %q", p.FormName())
	}
	name := path.Base(strings.ReplaceAll(p.FileName(), `\`, "/"))
	if name == "." || name == "/" || name == ".." || len(name) > 255 || !utf8.ValidString(name) ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", badUpload("file name %q: want a name of 1 to 255 bytes without control characters", p.FileName())
	}
	return name, nil
}

// contentTypeOf is the media type a download answers: from the name's extension, else octet-stream.
func contentTypeOf(name string) string {
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

func newBlobKey(databaseID int64) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "collect/" + strconv.FormatInt(databaseID, 10) + "/files/" + hex.EncodeToString(b)
}

// UploadFile (POST /api/v1/collect/app/upload) stores one file on a debtor, client or operator.
func (h *Handler) UploadFile(ctx context.Context, req collectapi.UploadFileRequestObject) (collectapi.UploadFileResponseObject, error) {
	s := scopeOf(ctx)
	mr := req.Body
	p, err := mr.NextPart()
	if err != nil {
		return nil, badUpload("the body is not a multipart form with a json part then a file part: %v", err)
	}
	in, err := readUploadJSON(p)
	if err != nil {
		return nil, err
	}
	// The owner and an overwrite conflict are checked before a byte of the file is read.
	if err := collect.CheckOwner(ctx, h.db, s, in.owner, in.rowid); err != nil {
		return nil, err
	}
	if p, err = mr.NextPart(); err != nil {
		return nil, badUpload("the file part is missing")
	}
	name, err := fileName(p)
	if err != nil {
		return nil, err
	}
	if in.overwrite == collect.OverwriteNo {
		if taken, err := collect.FileExists(ctx, h.db, s, in.owner, in.rowid, name); err != nil {
			return nil, err
		} else if taken {
			return nil, models.Errorf(models.Conflict, "%s %d has a file %s already (overwrite is no)", in.owner, in.rowid, name)
		}
	}
	key := newBlobKey(s.DatabaseID)
	info, err := h.blobs.Put(ctx, key, p, h.fileMax)
	if err != nil {
		if models.KindOf(err) == models.TooLarge {
			return nil, models.Errorf(models.TooLarge, "upload larger than %d bytes", h.fileMax)
		}
		return nil, err
	}
	f := &collect.File{Record: in.owner, RowID: in.rowid, FileName: name, BlobKey: key, Size: info.Size,
		ContentType: contentTypeOf(name)}
	oldKey, err := h.attach(ctx, mr, s, f, in.overwrite)
	if err != nil {
		h.dropBlob(ctx, key)
		return nil, err
	}
	if oldKey != "" {
		h.dropBlob(ctx, oldKey)
	}
	return collectapi.UploadFile200JSONResponse{Status: collectapi.N200, RecordType: collectapi.UploadResultRecordType(in.owner),
		FileName: f.FileName, FileNumber: in.rowid,
		AttachmentRecord: collectapi.UploadResultAttachmentRecord(collect.Attachments[in.owner].Record), AttachmentRowid: f.ID}, nil
}

// attach checks that the file part was the last part, then records the file.
func (h *Handler) attach(ctx context.Context, mr *multipart.Reader, s collect.Scope, f *collect.File, mode string) (string, error) {
	if _, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		if err == nil {
			return "", badUpload("one file per request: a part follows the file part")
		}
		return "", badUpload("the multipart body does not end properly: %v", err)
	}
	return collect.AttachFile(ctx, h.db, s, f, mode)
}

// dropBlob deletes a blob no row refers to; a failure leaves an unreachable file, which is logged.
func (h *Handler) dropBlob(ctx context.Context, key string) {
	if err := h.blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
		slog.WarnContext(ctx, "Collect! file blob not removed", "key", key, "error", err)
	}
}

// download streams a stored file.
type download struct {
	f    *collect.File
	body io.ReadCloser
	size int64
}

func (d download) VisitDownloadFileResponse(w http.ResponseWriter) error {
	defer d.body.Close()
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": d.f.FileName})
	if disp == "" || len(disp) > 512 { // DownloadFile's Content-Disposition maxLength
		disp = mime.FormatMediaType("attachment", map[string]string{"filename": "file" + path.Ext(d.f.FileName)})
		if disp == "" || len(disp) > 512 {
			disp = "attachment"
		}
	}
	w.Header().Set("Content-Type", d.f.ContentType)
	w.Header().Set("Content-Disposition", disp)
	w.Header().Set("Content-Length", strconv.FormatInt(d.size, 10))
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, d.body)
	return err
}

// DownloadFile (GET /api/v1/collect/app/download) streams the file of an attachment record.
func (h *Handler) DownloadFile(ctx context.Context, req collectapi.DownloadFileRequestObject) (collectapi.DownloadFileResponseObject, error) {
	s := scopeOf(ctx)
	p := req.Params
	f, err := collect.GetFile(ctx, h.db, s, p.Record, p.Rowid)
	if err != nil {
		return nil, err
	}
	if p.Field != nil && *p.Field != f.Field {
		return nil, models.Errorf(models.Invalid, "field %s is not an attachment field of %s (its one attachment field is %s)", *p.Field, p.Record, f.Field)
	}
	r, err := h.blobs.Open(ctx, f.BlobKey)
	if err != nil {
		return nil, err
	}
	return download{f: f, body: r, size: r.Info().Size}, nil
}
