package ictcore

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"switchboard/models"
)

// ICTCore's messages (migration step 5): texts (SMS), templates (e-mail), documents (fax) and recordings
// (voice). Each belongs to a user. Templates, documents and recordings may carry a file, kept in the blob
// store under MediaKey; MediaType is the Content-Type it came with and MediaSize its size (0: none yet).

// Text is an SMS message.
type Text struct {
	ID          int64 `gorm:"primaryKey;column:text_id"`
	Name        string
	Data        string
	Type        string // character set name
	Description string
	Length      int64 // bytes of Data
	Class       int
	Encoding    int // SMS data coding: 0 GSM, 1 binary, 2 unicode
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

// Template is an e-mail template; its attachment is its file.
type Template struct {
	ID          int64 `gorm:"primaryKey;column:template_id"`
	Name        string
	Description string
	Subject     string
	Body        string // HTML
	BodyAlt     string // plain text
	Type        string // file extension of the attachment
	MediaType   string
	MediaSize   int64
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

// Document is a fax document.
type Document struct {
	ID          int64 `gorm:"primaryKey;column:document_id"`
	Name        string
	Description string
	Type        string // file extension
	Pages       int64
	SizeX       int64
	SizeY       int64
	Quality     string
	ResolutionX int64
	ResolutionY int64
	MediaType   string
	MediaSize   int64
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

// Recording is a voice recording; its audio properties are read from its file.
type Recording struct {
	ID          int64 `gorm:"primaryKey;column:recording_id"`
	Name        string
	Description string
	Type        string // file extension
	Length      int64  // seconds
	Codec       string
	Channel     int64
	Sample      int64 // Hz
	Bitrate     int64 // bits per sample
	MediaType   string
	MediaSize   int64
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

var (
	texts      = table{"texts", "text_id", "text"}
	templates  = table{"templates", "template_id", "template"}
	documents  = table{"documents", "document_id", "document"}
	recordings = table{"recordings", "recording_id", "recording"}
)

// MessageFilter is the whitelist of the message lists' parameters (substring matches, as the contract says).
type MessageFilter struct {
	ID                      *int64
	Name, Type, Description *string
	Subject                 *string // templates only
	models.ListQuery
}

func (f MessageFilter) where(t table) []models.Where {
	w := []models.Where{
		models.Equal(t.id, f.ID),
		models.Contains("name", f.Name),
		models.Contains("type", f.Type),
		models.Contains("description", f.Description),
	}
	if t == templates {
		w = append(w, models.Contains("subject", f.Subject))
	}
	return w
}

// MediaKey is the blob store key of a message's file.
func MediaKey(kind string, id int64) string { return fmt.Sprintf("ictcore/%s/%d", kind, id) }

// The three kinds with a file, as MediaKey names them.
const (
	TemplateMedia  = "templates"
	DocumentMedia  = "documents"
	RecordingMedia = "recordings"
)

// Texts.

// CreateText stores t (its Type and Encoding already settled by TextCharset) and sets its id.
func CreateText(ctx context.Context, db *gorm.DB, t *Text) error {
	t.ID, t.Length = 0, int64(len(t.Data))
	stamp(&t.CreatedAt, &t.UpdatedAt)
	return db.WithContext(ctx).Create(t).Error
}

// GetText loads a text the owner may see.
func GetText(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Text, error) {
	return getOwned[Text](ctx, db, texts, o, id)
}

// UpdateText lets change edit the text and saves it.
func UpdateText(ctx context.Context, db *gorm.DB, o Owner, id int64, change func(*Text) error) (*Text, error) {
	return updateOwned(ctx, db, texts, o, id, func(t *Text) error {
		if err := change(t); err != nil {
			return err
		}
		t.Length = int64(len(t.Data))
		stampUpdate(&t.UpdatedAt)
		return nil
	})
}

// DeleteText deletes a text.
func DeleteText(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, texts, o, id, nil)
}

// ListTexts answers a page of the owner's texts.
func ListTexts(ctx context.Context, db *gorm.DB, o Owner, f MessageFilter) (models.PageOf[Text], error) {
	return listOwned(ctx, db, texts, o, f.ListQuery, func(t *Text) int64 { return t.ID }, f.where(texts)...)
}

// TextCharset settles a text's character set and SMS data coding from what a client sent (ambiguity 61):
// the type is kept as the client spelled it (review R25), a character set name or the guide's unicode,
// plain or binary; the guide's names set the coding (unicode 2, plain 0, binary 1), GSM and ASCII are
// coded as GSM (0), other character sets as unicode (2). An explicit encoding wins. An empty typ keeps
// current (UTF-8 for a new text).
func TextCharset(typ string, encoding *int, current string) (string, int) {
	if typ == "" {
		typ = current
	}
	if typ == "" {
		typ = "UTF-8"
	}
	enc := 2
	switch typ {
	case "plain", "GSM", "ASCII":
		enc = 0
	case "binary":
		enc = 1
	}
	if encoding != nil {
		enc = *encoding
	}
	return typ, enc
}

// Templates, documents and recordings.

// CreateTemplate stores t and sets its id.
func CreateTemplate(ctx context.Context, db *gorm.DB, t *Template) error {
	t.ID, t.MediaType, t.MediaSize = 0, "", 0
	stamp(&t.CreatedAt, &t.UpdatedAt)
	return db.WithContext(ctx).Create(t).Error
}

// GetTemplate loads a template the owner may see.
func GetTemplate(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Template, error) {
	return getOwned[Template](ctx, db, templates, o, id)
}

// UpdateTemplate lets change edit the template and saves it.
func UpdateTemplate(ctx context.Context, db *gorm.DB, o Owner, id int64, change func(*Template) error) (*Template, error) {
	return updateOwned(ctx, db, templates, o, id, func(t *Template) error { return touched(change(t), &t.UpdatedAt) })
}

// DeleteTemplate deletes a template; its file is the caller's to delete from the blob store.
func DeleteTemplate(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, templates, o, id, nil)
}

// ListTemplates answers a page of the owner's templates.
func ListTemplates(ctx context.Context, db *gorm.DB, o Owner, f MessageFilter) (models.PageOf[Template], error) {
	return listOwned(ctx, db, templates, o, f.ListQuery, func(t *Template) int64 { return t.ID }, f.where(templates)...)
}

// CreateDocument stores d and sets its id.
func CreateDocument(ctx context.Context, db *gorm.DB, d *Document) error {
	d.ID, d.MediaType, d.MediaSize = 0, "", 0
	if d.Quality == "" {
		d.Quality = "standard"
	}
	stamp(&d.CreatedAt, &d.UpdatedAt)
	return db.WithContext(ctx).Create(d).Error
}

// GetDocument loads a document the owner may see.
func GetDocument(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Document, error) {
	return getOwned[Document](ctx, db, documents, o, id)
}

// UpdateDocument lets change edit the document and saves it.
func UpdateDocument(ctx context.Context, db *gorm.DB, o Owner, id int64, change func(*Document) error) (*Document, error) {
	return updateOwned(ctx, db, documents, o, id, func(d *Document) error { return touched(change(d), &d.UpdatedAt) })
}

// DeleteDocument deletes a document; its file is the caller's to delete from the blob store.
func DeleteDocument(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, documents, o, id, nil)
}

// ListDocuments answers a page of the owner's documents.
func ListDocuments(ctx context.Context, db *gorm.DB, o Owner, f MessageFilter) (models.PageOf[Document], error) {
	return listOwned(ctx, db, documents, o, f.ListQuery, func(d *Document) int64 { return d.ID }, f.where(documents)...)
}

// CreateRecording stores r and sets its id.
func CreateRecording(ctx context.Context, db *gorm.DB, r *Recording) error {
	r.ID, r.MediaType, r.MediaSize = 0, "", 0
	stamp(&r.CreatedAt, &r.UpdatedAt)
	return db.WithContext(ctx).Create(r).Error
}

// GetRecording loads a recording the owner may see.
func GetRecording(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Recording, error) {
	return getOwned[Recording](ctx, db, recordings, o, id)
}

// UpdateRecording lets change edit the recording and saves it.
func UpdateRecording(ctx context.Context, db *gorm.DB, o Owner, id int64, change func(*Recording) error) (*Recording, error) {
	return updateOwned(ctx, db, recordings, o, id, func(r *Recording) error { return touched(change(r), &r.UpdatedAt) })
}

// DeleteRecording deletes a recording; its file is the caller's to delete from the blob store.
func DeleteRecording(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, recordings, o, id, nil)
}

// ListRecordings answers a page of the owner's recordings.
func ListRecordings(ctx context.Context, db *gorm.DB, o Owner, f MessageFilter) (models.PageOf[Recording], error) {
	return listOwned(ctx, db, recordings, o, f.ListQuery, func(r *Recording) int64 { return r.ID }, f.where(recordings)...)
}
