package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// The four message kinds (texts, templates, documents, recordings): CRUD here, files in media.go. A user
// who is not an admin sees and changes only its own (ownerOf); read-only fields sent back are ignored.

// ownerOf is whose rows the request may touch: everyone's for an admin, else the caller's own.
func ownerOf(ctx context.Context) ictcore.Owner {
	p := auth.PrincipalFrom(ctx)
	if isAdmin(p) {
		return ictcore.AnyOwner
	}
	return ictcore.Owner(p.UserID)
}

// pageQuery is the limit/offset window of a list without keyset paging.
func pageQuery(limit, offset *int, count *bool) models.ListQuery {
	return models.ListQuery{Limit: convert.Deref(limit), Offset: int64(convert.Deref(offset)), Count: convert.Deref(count)}
}

// totalHeader converts a page's optional count to the header field.
func totalHeader(n *int64) *int {
	if n == nil {
		return nil
	}
	v := int(*n)
	return &v
}

// set copies *v into *dst when v is not nil: the one rule of every partial update.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Texts.

func (h *Handler) CreateText(ctx context.Context, req ictcoreapi.CreateTextRequestObject) (ictcoreapi.CreateTextResponseObject, error) {
	in := req.Body
	t := &ictcore.Text{Name: in.Name, Data: in.Data, Description: convert.Deref(in.Description), Class: 1,
		UserID: auth.PrincipalFrom(ctx).UserID}
	if in.Class != nil {
		t.Class = int(*in.Class)
	}
	t.Type, t.Encoding = ictcore.TextCharset(string(convert.Deref(in.Type)), (*int)(in.Encoding), "")
	if err := ictcore.CreateText(ctx, h.db, t); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateText200JSONResponse(idAnswer[ictcoreapi.TextCreated](h.bareIDs, "text_id", t.ID)), nil
}

func (h *Handler) ListTexts(ctx context.Context, req ictcoreapi.ListTextsRequestObject) (ictcoreapi.ListTextsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListTexts(ctx, h.db, ownerOf(ctx), ictcore.MessageFilter{ID: p.TextId, Name: p.Name, Type: p.Type,
		Description: p.Description, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIText)
	return ictcoreapi.ListTexts200JSONResponse{Body: out, Headers: ictcoreapi.ListTexts200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetText(ctx context.Context, req ictcoreapi.GetTextRequestObject) (ictcoreapi.GetTextResponseObject, error) {
	t, err := ictcore.GetText(ctx, h.db, ownerOf(ctx), req.TextId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetText200JSONResponse(toAPIText(t)), nil
}

func (h *Handler) UpdateText(ctx context.Context, req ictcoreapi.UpdateTextRequestObject) (ictcoreapi.UpdateTextResponseObject, error) {
	in := req.Body
	t, err := ictcore.UpdateText(ctx, h.db, ownerOf(ctx), req.TextId, func(t *ictcore.Text) error {
		set(&t.Name, in.Name)
		set(&t.Data, in.Data)
		set(&t.Description, in.Description)
		if in.Class != nil {
			t.Class = int(*in.Class)
		}
		if in.Type != nil || in.Encoding != nil {
			t.Type, t.Encoding = ictcore.TextCharset(string(convert.Deref(in.Type)), (*int)(in.Encoding), t.Type)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateText200JSONResponse(toAPIText(t)), nil
}

func (h *Handler) DeleteText(ctx context.Context, req ictcoreapi.DeleteTextRequestObject) (ictcoreapi.DeleteTextResponseObject, error) {
	if err := ictcore.DeleteText(ctx, h.db, ownerOf(ctx), req.TextId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteText200JSONResponse(true), nil
}

func toAPIText(t *ictcore.Text) ictcoreapi.Text {
	class, enc, length := ictcoreapi.TextClass(t.Class), ictcoreapi.TextEncoding(t.Encoding), int(t.Length)
	return ictcoreapi.Text{TextId: t.ID, Name: t.Name, Data: t.Data, Type: ictcoreapi.TextType(t.Type),
		Description: &t.Description, Length: &length, Class: &class, Encoding: &enc, UserId: &t.UserID}
}

// Templates.

func (h *Handler) CreateTemplate(ctx context.Context, req ictcoreapi.CreateTemplateRequestObject) (ictcoreapi.CreateTemplateResponseObject, error) {
	in := req.Body
	t := &ictcore.Template{Name: in.Name, Subject: in.Subject, Body: in.Body, BodyAlt: convert.Deref(in.BodyAlt),
		Description: convert.Deref(in.Description), Type: convert.Deref(in.Type), UserID: auth.PrincipalFrom(ctx).UserID}
	if err := ictcore.CreateTemplate(ctx, h.db, t); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateTemplate200JSONResponse(idAnswer[ictcoreapi.TemplateCreated](h.bareIDs, "template_id", t.ID)), nil
}

func (h *Handler) ListTemplates(ctx context.Context, req ictcoreapi.ListTemplatesRequestObject) (ictcoreapi.ListTemplatesResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListTemplates(ctx, h.db, ownerOf(ctx), ictcore.MessageFilter{ID: p.TemplateId, Name: p.Name,
		Subject: p.Subject, Type: p.Type, Description: p.Description, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPITemplate)
	return ictcoreapi.ListTemplates200JSONResponse{Body: out, Headers: ictcoreapi.ListTemplates200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetTemplate(ctx context.Context, req ictcoreapi.GetTemplateRequestObject) (ictcoreapi.GetTemplateResponseObject, error) {
	t, err := ictcore.GetTemplate(ctx, h.db, ownerOf(ctx), req.TemplateId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetTemplate200JSONResponse(toAPITemplate(t)), nil
}

func (h *Handler) UpdateTemplate(ctx context.Context, req ictcoreapi.UpdateTemplateRequestObject) (ictcoreapi.UpdateTemplateResponseObject, error) {
	in := req.Body
	t, err := ictcore.UpdateTemplate(ctx, h.db, ownerOf(ctx), req.TemplateId, func(t *ictcore.Template) error {
		set(&t.Name, in.Name)
		set(&t.Subject, in.Subject)
		set(&t.Body, in.Body)
		set(&t.BodyAlt, in.BodyAlt)
		set(&t.Description, in.Description)
		set(&t.Type, in.Type)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateTemplate200JSONResponse(toAPITemplate(t)), nil
}

func (h *Handler) DeleteTemplate(ctx context.Context, req ictcoreapi.DeleteTemplateRequestObject) (ictcoreapi.DeleteTemplateResponseObject, error) {
	if err := h.deleteWithMedia(ctx, ictcore.TemplateMedia, req.TemplateId, ictcore.DeleteTemplate); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteTemplate200JSONResponse(true), nil
}

func toAPITemplate(t *ictcore.Template) ictcoreapi.Template {
	length := int(t.MediaSize)
	return ictcoreapi.Template{TemplateId: t.ID, Name: t.Name, Subject: t.Subject, Body: t.Body, BodyAlt: &t.BodyAlt,
		Description: &t.Description, Type: &t.Type, Length: &length, UserId: &t.UserID}
}

// Documents.

func (h *Handler) CreateDocument(ctx context.Context, req ictcoreapi.CreateDocumentRequestObject) (ictcoreapi.CreateDocumentResponseObject, error) {
	in := req.Body
	d := &ictcore.Document{Name: in.Name, Description: convert.Deref(in.Description), Type: convert.Deref(in.Type),
		Quality: string(convert.Deref(in.Quality)), UserID: auth.PrincipalFrom(ctx).UserID}
	if err := ictcore.CreateDocument(ctx, h.db, d); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateDocument200JSONResponse(idAnswer[ictcoreapi.DocumentCreated](h.bareIDs, "document_id", d.ID)), nil
}

func (h *Handler) ListDocuments(ctx context.Context, req ictcoreapi.ListDocumentsRequestObject) (ictcoreapi.ListDocumentsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListDocuments(ctx, h.db, ownerOf(ctx), ictcore.MessageFilter{ID: p.DocumentId, Name: p.Name,
		Type: p.Type, Description: p.Description, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIDocument)
	return ictcoreapi.ListDocuments200JSONResponse{Body: out, Headers: ictcoreapi.ListDocuments200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetDocument(ctx context.Context, req ictcoreapi.GetDocumentRequestObject) (ictcoreapi.GetDocumentResponseObject, error) {
	d, err := ictcore.GetDocument(ctx, h.db, ownerOf(ctx), req.DocumentId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetDocument200JSONResponse(toAPIDocument(d)), nil
}

func (h *Handler) UpdateDocument(ctx context.Context, req ictcoreapi.UpdateDocumentRequestObject) (ictcoreapi.UpdateDocumentResponseObject, error) {
	in := req.Body
	d, err := ictcore.UpdateDocument(ctx, h.db, ownerOf(ctx), req.DocumentId, func(d *ictcore.Document) error {
		set(&d.Name, in.Name)
		set(&d.Description, in.Description)
		set(&d.Type, in.Type)
		if in.Quality != nil {
			d.Quality = string(*in.Quality)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateDocument200JSONResponse(toAPIDocument(d)), nil
}

func (h *Handler) DeleteDocument(ctx context.Context, req ictcoreapi.DeleteDocumentRequestObject) (ictcoreapi.DeleteDocumentResponseObject, error) {
	if err := h.deleteWithMedia(ctx, ictcore.DocumentMedia, req.DocumentId, ictcore.DeleteDocument); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteDocument200JSONResponse(true), nil
}

func toAPIDocument(d *ictcore.Document) ictcoreapi.Document {
	pages, sx, sy, rx, ry := int(d.Pages), int(d.SizeX), int(d.SizeY), int(d.ResolutionX), int(d.ResolutionY)
	q := ictcoreapi.DocumentQuality(d.Quality)
	return ictcoreapi.Document{DocumentId: d.ID, Name: d.Name, Description: &d.Description, Type: &d.Type,
		Pages: &pages, SizeX: &sx, SizeY: &sy, Quality: &q, ResolutionX: &rx, ResolutionY: &ry, UserId: &d.UserID}
}

// Recordings.

func (h *Handler) CreateRecording(ctx context.Context, req ictcoreapi.CreateRecordingRequestObject) (ictcoreapi.CreateRecordingResponseObject, error) {
	in := req.Body
	r := &ictcore.Recording{Name: in.Name, Description: convert.Deref(in.Description), Type: convert.Deref(in.Type),
		UserID: auth.PrincipalFrom(ctx).UserID}
	if err := ictcore.CreateRecording(ctx, h.db, r); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateRecording200JSONResponse(idAnswer[ictcoreapi.RecordingCreated](h.bareIDs, "recording_id", r.ID)), nil
}

func (h *Handler) ListRecordings(ctx context.Context, req ictcoreapi.ListRecordingsRequestObject) (ictcoreapi.ListRecordingsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListRecordings(ctx, h.db, ownerOf(ctx), ictcore.MessageFilter{ID: p.RecordingId, Name: p.Name,
		Type: p.Type, Description: p.Description, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIRecording)
	return ictcoreapi.ListRecordings200JSONResponse{Body: out, Headers: ictcoreapi.ListRecordings200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetRecording(ctx context.Context, req ictcoreapi.GetRecordingRequestObject) (ictcoreapi.GetRecordingResponseObject, error) {
	r, err := ictcore.GetRecording(ctx, h.db, ownerOf(ctx), req.RecordingId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetRecording200JSONResponse(toAPIRecording(r)), nil
}

func (h *Handler) UpdateRecording(ctx context.Context, req ictcoreapi.UpdateRecordingRequestObject) (ictcoreapi.UpdateRecordingResponseObject, error) {
	in := req.Body
	r, err := ictcore.UpdateRecording(ctx, h.db, ownerOf(ctx), req.RecordingId, func(r *ictcore.Recording) error {
		set(&r.Name, in.Name)
		set(&r.Description, in.Description)
		set(&r.Type, in.Type)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateRecording200JSONResponse(toAPIRecording(r)), nil
}

func (h *Handler) DeleteRecording(ctx context.Context, req ictcoreapi.DeleteRecordingRequestObject) (ictcoreapi.DeleteRecordingResponseObject, error) {
	if err := h.deleteWithMedia(ctx, ictcore.RecordingMedia, req.RecordingId, ictcore.DeleteRecording); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteRecording200JSONResponse(true), nil
}

func toAPIRecording(r *ictcore.Recording) ictcoreapi.Recording {
	length, ch, sample, bitrate := int(r.Length), int(r.Channel), int(r.Sample), int(r.Bitrate)
	return ictcoreapi.Recording{RecordingId: r.ID, Name: r.Name, Description: &r.Description, Type: &r.Type,
		Length: &length, Codec: &r.Codec, Channel: &ch, Sample: &sample, Bitrate: &bitrate, UserId: &r.UserID}
}
