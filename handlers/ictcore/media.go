package ictcore

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
)

// Message files: a document's fax file, a recording's audio, a template's attachment. Uploads stream into
// the blob store (which replaces an old file only once the new one is complete); the row then records the
// file's type, media type and size. A file's type follows its content where the first bytes say what it
// is (a PDF sent as image/png is a pdf), else its declared media type.

// sniffLen is how much of an upload is looked at before it streams on: enough for a WAV header.
const sniffLen = 512

// docTypes: the document media types the contract lists, and the file type each stands for.
var docTypes = map[string]string{
	"application/pdf": "pdf", "image/tiff": "tif", "image/x-tiff": "tif", "image/png": "png", "image/jpeg": "jpg",
	"image/x-citrix-jpeg": "jpg", "application/msword": "doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
	"application/vnd.oasis.opendocument.text":                                 "odt", "application/vnd.ms-excel": "xls",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
	"application/vnd.oasis.opendocument.spreadsheet":                    "ods", "application/vnd.ms-powerpoint": "ppt",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/vnd.oasis.opendocument.presentation":                           "odp",
}

// recTypes: the recording media types the contract lists, and the file type each stands for.
var recTypes = map[string]string{
	"audio/wav": "wav", "audio/x-wav": "wav", "audio/x-gsm": "gsm",
	"audio/mpeg": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg-3": "mp3",
}

// sniffed names the file types recognised by their first bytes, with the media type a download answers.
func sniffed(head []byte) (typ, mediaType string) {
	switch {
	case strings.HasPrefix(string(head), "%PDF-"):
		return "pdf", "application/pdf"
	case strings.HasPrefix(string(head), "II*\x00"), strings.HasPrefix(string(head), "MM\x00*"):
		return "tif", "image/tiff"
	case strings.HasPrefix(string(head), "\x89PNG\r\n\x1a\n"):
		return "png", "image/png"
	case strings.HasPrefix(string(head), "\xff\xd8\xff"):
		return "jpg", "image/jpeg"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "wav", "audio/wav"
	case strings.HasPrefix(string(head), "ID3"), len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0:
		return "mp3", "audio/mpeg"
	}
	return "", ""
}

// baseType is a Content-Type without parameters, lowercased.
func baseType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// upload is one media upload, checked and peeked at, ready to stream.
type upload struct {
	body      *bufio.Reader
	head      []byte
	typ       string // file type (extension)
	mediaType string // what a download answers
}

// readUpload checks the declared media type against accepted (nil: any but none) and peeks at the
// content; an empty body is invalid.
func readUpload(contentType string, body io.Reader, accepted map[string]string) (*upload, error) {
	ct := baseType(contentType)
	if ct == "" {
		return nil, models.Errorf(models.Unsupported, "a Content-Type is required")
	}
	u := &upload{body: bufio.NewReaderSize(body, sniffLen), mediaType: ct}
	if accepted != nil {
		typ, ok := accepted[ct]
		if !ok {
			return nil, models.Errorf(models.Unsupported, "Content-Type %q is not accepted here", ct)
		}
		u.typ = typ
	}
	head, err := u.body.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	if len(head) == 0 {
		return nil, models.Errorf(models.Invalid, "the file is empty")
	}
	u.head = head
	if typ, mt := sniffed(head); typ != "" && (accepted == nil || containsValue(accepted, typ)) {
		u.typ, u.mediaType = typ, mt
	}
	if u.typ == "" {
		u.typ = extensionOf(ct)
	}
	return u, nil
}

func containsValue(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// extensionOf answers a short file type for a template attachment's media type.
func extensionOf(ct string) string {
	switch ct {
	case "text/plain":
		return "txt"
	case "text/html":
		return "html"
	}
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 && len(exts[0]) <= 9 {
		return strings.TrimPrefix(exts[0], ".")
	}
	return "bin"
}

// storeMedia streams the upload into the message's blob and then records it on the row with record; if
// the row went away meanwhile, the new blob goes too.
func (h *Handler) storeMedia(ctx context.Context, kind string, id int64, u *upload, record func(size int64) error) error {
	key := ictcore.MediaKey(kind, id)
	info, err := h.blobs.Put(ctx, key, u.body, h.mediaMax)
	if err != nil {
		return err
	}
	if err := record(info.Size); err != nil {
		if models.KindOf(err) == models.NotFound {
			h.dropMedia(ctx, key)
		}
		return err
	}
	return nil
}

// dropMedia deletes a blob whose row is gone; a failure leaves an unreachable file, which is logged.
func (h *Handler) dropMedia(ctx context.Context, key string) {
	if err := h.blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
		h.log.WarnContext(ctx, "media of a deleted message not removed", "key", key, "error", err)
	}
}

// deleteWithMedia deletes a message with del, then its file.
func (h *Handler) deleteWithMedia(ctx context.Context, kind string, id int64,
	del func(context.Context, *gorm.DB, ictcore.Owner, int64) error) error {
	if err := del(ctx, h.db, ownerOf(ctx), id); err != nil {
		return err
	}
	h.dropMedia(ctx, ictcore.MediaKey(kind, id))
	return nil
}

// media is a download: one response type serves the three download operations, whatever the media type
// (the contract lists each type the stored file can have).
type media struct {
	mediaType, filename string
	body                io.ReadCloser
	size                int64
}

func (m media) visit(w http.ResponseWriter) error {
	defer m.body.Close()
	w.Header().Set("Content-Type", m.mediaType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": m.filename}))
	w.Header().Set("Content-Length", strconv.FormatInt(m.size, 10))
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, m.body)
	return err
}

func (m media) VisitDownloadDocumentMediaResponse(w http.ResponseWriter) error  { return m.visit(w) }
func (m media) VisitDownloadRecordingMediaResponse(w http.ResponseWriter) error { return m.visit(w) }
func (m media) VisitDownloadTemplateMediaResponse(w http.ResponseWriter) error  { return m.visit(w) }

// openMedia answers the message's file as a download named name.type; noun names the message in errors.
func (h *Handler) openMedia(ctx context.Context, kind, noun string, id, size int64, mediaType, name, typ string) (media, error) {
	if size == 0 {
		return media{}, models.Errorf(models.NotFound, "%s %d has no file", noun, id)
	}
	r, err := h.blobs.Open(ctx, ictcore.MediaKey(kind, id))
	if err != nil {
		return media{}, err
	}
	filename := name
	if typ != "" {
		filename += "." + typ
	}
	return media{mediaType: mediaType, filename: filename, body: r, size: r.Info().Size}, nil
}

// Documents.

func (h *Handler) UploadDocumentMedia(ctx context.Context, req ictcoreapi.UploadDocumentMediaRequestObject) (ictcoreapi.UploadDocumentMediaResponseObject, error) {
	if err := h.putDocument(ctx, req.DocumentId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.UploadDocumentMedia200JSONResponse(idAnswer[ictcoreapi.DocumentCreated](h.bareIDs, "document_id", req.DocumentId)), nil
}

func (h *Handler) PostDocumentMedia(ctx context.Context, req ictcoreapi.PostDocumentMediaRequestObject) (ictcoreapi.PostDocumentMediaResponseObject, error) {
	if err := h.putDocument(ctx, req.DocumentId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.PostDocumentMedia200JSONResponse(idAnswer[ictcoreapi.DocumentCreated](h.bareIDs, "document_id", req.DocumentId)), nil
}

func (h *Handler) putDocument(ctx context.Context, id int64, contentType string, body io.Reader) error {
	o := ownerOf(ctx)
	if _, err := ictcore.GetDocument(ctx, h.db, o, id); err != nil {
		return err // before reading a byte of the body
	}
	u, err := readUpload(contentType, body, docTypes)
	if err != nil {
		return err
	}
	return h.storeMedia(ctx, ictcore.DocumentMedia, id, u, func(size int64) error {
		_, err := ictcore.UpdateDocument(ctx, h.db, o, id, func(d *ictcore.Document) error {
			d.Type, d.MediaType, d.MediaSize = u.typ, u.mediaType, size
			return nil
		})
		return err
	})
}

func (h *Handler) DownloadDocumentMedia(ctx context.Context, req ictcoreapi.DownloadDocumentMediaRequestObject) (ictcoreapi.DownloadDocumentMediaResponseObject, error) {
	d, err := ictcore.GetDocument(ctx, h.db, ownerOf(ctx), req.DocumentId)
	if err != nil {
		return nil, err
	}
	return h.openMedia(ctx, ictcore.DocumentMedia, "document", d.ID, d.MediaSize, d.MediaType, d.Name, d.Type)
}

// Recordings.

func (h *Handler) UploadRecordingMedia(ctx context.Context, req ictcoreapi.UploadRecordingMediaRequestObject) (ictcoreapi.UploadRecordingMediaResponseObject, error) {
	if err := h.putRecording(ctx, req.RecordingId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.UploadRecordingMedia200JSONResponse(idAnswer[ictcoreapi.RecordingCreated](h.bareIDs, "recording_id", req.RecordingId)), nil
}

func (h *Handler) PostRecordingMedia(ctx context.Context, req ictcoreapi.PostRecordingMediaRequestObject) (ictcoreapi.PostRecordingMediaResponseObject, error) {
	if err := h.putRecording(ctx, req.RecordingId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.PostRecordingMedia200JSONResponse(idAnswer[ictcoreapi.RecordingCreated](h.bareIDs, "recording_id", req.RecordingId)), nil
}

func (h *Handler) putRecording(ctx context.Context, id int64, contentType string, body io.Reader) error {
	o := ownerOf(ctx)
	if _, err := ictcore.GetRecording(ctx, h.db, o, id); err != nil {
		return err
	}
	u, err := readUpload(contentType, body, recTypes)
	if err != nil {
		return err
	}
	return h.storeMedia(ctx, ictcore.RecordingMedia, id, u, func(size int64) error {
		_, err := ictcore.UpdateRecording(ctx, h.db, o, id, func(r *ictcore.Recording) error {
			r.Type, r.MediaType, r.MediaSize = u.typ, u.mediaType, size
			r.Codec, r.Channel, r.Sample, r.Bitrate, r.Length = audioProps(u.typ, u.head, size)
			return nil
		})
		return err
	})
}

// audioProps reads a recording's codec, channels, sample rate, bits per sample and length in seconds
// from a WAV header (the guide's format); other formats answer their codec only.
func audioProps(typ string, head []byte, size int64) (codec string, channels, sample, bits, seconds int64) {
	switch typ {
	case "mp3":
		return "mp3", 0, 0, 0, 0
	case "gsm":
		return "gsm", 1, 8000, 0, size / 1650 // GSM 06.10: 33 bytes per 20 ms
	case "wav":
	default:
		return "", 0, 0, 0, 0
	}
	// RIFF header, then chunks: find "fmt " and "data" within what was peeked.
	var dataSize, byteRate int64
	for off := 12; off+8 <= len(head); {
		id, n := string(head[off:off+4]), int(binary.LittleEndian.Uint32(head[off+4:off+8]))
		body := head[off+8:]
		switch {
		case id == "fmt " && len(body) >= 16:
			codec = wavCodecs[binary.LittleEndian.Uint16(body[0:2])]
			channels = int64(binary.LittleEndian.Uint16(body[2:4]))
			sample = int64(binary.LittleEndian.Uint32(body[4:8]))
			byteRate = int64(binary.LittleEndian.Uint32(body[8:12]))
			bits = int64(binary.LittleEndian.Uint16(body[14:16]))
		case id == "data":
			dataSize = int64(n)
			if dataSize == 0 || dataSize > size { // streamed WAVs leave it 0 or wrong
				dataSize = size - int64(off+8)
			}
		}
		if id == "data" || n < 0 {
			break
		}
		off += 8 + n + n%2
	}
	if byteRate > 0 {
		seconds = dataSize / byteRate
	}
	return codec, channels, sample, bits, seconds
}

// wavCodecs names the WAVE format tags telephony uses.
var wavCodecs = map[uint16]string{1: "pcm", 3: "float", 6: "alaw", 7: "ulaw", 0x31: "gsm", 0x11: "adpcm"}

func (h *Handler) DownloadRecordingMedia(ctx context.Context, req ictcoreapi.DownloadRecordingMediaRequestObject) (ictcoreapi.DownloadRecordingMediaResponseObject, error) {
	r, err := ictcore.GetRecording(ctx, h.db, ownerOf(ctx), req.RecordingId)
	if err != nil {
		return nil, err
	}
	return h.openMedia(ctx, ictcore.RecordingMedia, "recording", r.ID, r.MediaSize, r.MediaType, r.Name, r.Type)
}

// Templates: any media type is stored; a download answers text/html, text/plain or, for anything else,
// application/octet-stream (the contract's three).

func (h *Handler) UploadTemplateMedia(ctx context.Context, req ictcoreapi.UploadTemplateMediaRequestObject) (ictcoreapi.UploadTemplateMediaResponseObject, error) {
	if err := h.putTemplate(ctx, req.TemplateId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.UploadTemplateMedia200JSONResponse(idAnswer[ictcoreapi.TemplateCreated](h.bareIDs, "template_id", req.TemplateId)), nil
}

func (h *Handler) PostTemplateMedia(ctx context.Context, req ictcoreapi.PostTemplateMediaRequestObject) (ictcoreapi.PostTemplateMediaResponseObject, error) {
	if err := h.putTemplate(ctx, req.TemplateId, req.ContentType, req.Body); err != nil {
		return nil, err
	}
	return ictcoreapi.PostTemplateMedia200JSONResponse(idAnswer[ictcoreapi.TemplateCreated](h.bareIDs, "template_id", req.TemplateId)), nil
}

func (h *Handler) putTemplate(ctx context.Context, id int64, contentType string, body io.Reader) error {
	o := ownerOf(ctx)
	if _, err := ictcore.GetTemplate(ctx, h.db, o, id); err != nil {
		return err
	}
	u, err := readUpload(contentType, body, nil)
	if err != nil {
		return err
	}
	return h.storeMedia(ctx, ictcore.TemplateMedia, id, u, func(size int64) error {
		_, err := ictcore.UpdateTemplate(ctx, h.db, o, id, func(t *ictcore.Template) error {
			t.Type, t.MediaType, t.MediaSize = u.typ, u.mediaType, size
			return nil
		})
		return err
	})
}

func (h *Handler) DownloadTemplateMedia(ctx context.Context, req ictcoreapi.DownloadTemplateMediaRequestObject) (ictcoreapi.DownloadTemplateMediaResponseObject, error) {
	t, err := ictcore.GetTemplate(ctx, h.db, ownerOf(ctx), req.TemplateId)
	if err != nil {
		return nil, err
	}
	mt := t.MediaType
	if mt != "text/html" && mt != "text/plain" {
		mt = "application/octet-stream"
	}
	return h.openMedia(ctx, ictcore.TemplateMedia, "template", t.ID, t.MediaSize, mt, t.Name, t.Type)
}
