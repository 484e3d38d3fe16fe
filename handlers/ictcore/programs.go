package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// Programs: one create per type (POST /programs/{type}), sharing createProgram; list, get and delete.
// The transmissions a program makes come with the transmissions work.

// createProgram stores a program of typ for the caller; what it names must exist and be the caller's.
func (h *Handler) createProgram(ctx context.Context, p *ictcore.Program) (ictcoreapi.ProgramCreatedAnswerJSONResponse, error) {
	p.UserID = auth.PrincipalFrom(ctx).UserID
	if err := ictcore.CreateProgram(ctx, h.db, ownerOf(ctx), p); err != nil {
		return ictcoreapi.ProgramCreatedAnswerJSONResponse{}, err
	}
	return ictcoreapi.ProgramCreatedAnswerJSONResponse(idAnswer[ictcoreapi.ProgramCreated](h.bareIDs, "program_id", p.ID)), nil
}

func (h *Handler) CreateSendfaxProgram(ctx context.Context, req ictcoreapi.CreateSendfaxProgramRequestObject) (ictcoreapi.CreateSendfaxProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "sendfax", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId, DocumentID: &b.DocumentId})
	return ictcoreapi.CreateSendfaxProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateSendemailProgram(ctx context.Context, req ictcoreapi.CreateSendemailProgramRequestObject) (ictcoreapi.CreateSendemailProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "sendemail", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId, TemplateID: &b.TemplateId})
	return ictcoreapi.CreateSendemailProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateSendsmsProgram(ctx context.Context, req ictcoreapi.CreateSendsmsProgramRequestObject) (ictcoreapi.CreateSendsmsProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "sendsms", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId, TextID: &b.TextId})
	return ictcoreapi.CreateSendsmsProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateVoicemessageProgram(ctx context.Context, req ictcoreapi.CreateVoicemessageProgramRequestObject) (ictcoreapi.CreateVoicemessageProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "voicemessage", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId, RecordingID: &b.RecordingId})
	return ictcoreapi.CreateVoicemessageProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateVoicettsProgram(ctx context.Context, req ictcoreapi.CreateVoicettsProgramRequestObject) (ictcoreapi.CreateVoicettsProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "voicetts", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId, Text: b.Text, Delay: convert.Deref(b.Delay)})
	return ictcoreapi.CreateVoicettsProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateEmailtofaxProgram(ctx context.Context, req ictcoreapi.CreateEmailtofaxProgramRequestObject) (ictcoreapi.CreateEmailtofaxProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "emailtofax", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId})
	return ictcoreapi.CreateEmailtofaxProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateFaxtoemailProgram(ctx context.Context, req ictcoreapi.CreateFaxtoemailProgramRequestObject) (ictcoreapi.CreateFaxtoemailProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "faxtoemail", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId})
	return ictcoreapi.CreateFaxtoemailProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateReceiveemailProgram(ctx context.Context, req ictcoreapi.CreateReceiveemailProgramRequestObject) (ictcoreapi.CreateReceiveemailProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "receiveemail", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId})
	return ictcoreapi.CreateReceiveemailProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateReceivefaxProgram(ctx context.Context, req ictcoreapi.CreateReceivefaxProgramRequestObject) (ictcoreapi.CreateReceivefaxProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "receivefax", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId})
	return ictcoreapi.CreateReceivefaxProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) CreateReceivesmsProgram(ctx context.Context, req ictcoreapi.CreateReceivesmsProgramRequestObject) (ictcoreapi.CreateReceivesmsProgramResponseObject, error) {
	b := req.Body
	out, err := h.createProgram(ctx, &ictcore.Program{Type: "receivesms", Name: b.Name, ParentID: b.ParentId, AccountID: b.AccountId})
	return ictcoreapi.CreateReceivesmsProgram200JSONResponse{ProgramCreatedAnswerJSONResponse: out}, err
}

func (h *Handler) ListPrograms(ctx context.Context, req ictcoreapi.ListProgramsRequestObject) (ictcoreapi.ListProgramsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListPrograms(ctx, h.db, ownerOf(ctx), ictcore.ProgramFilter{ID: p.ProgramId, Name: p.Name, Type: p.Type,
		UserID: firstSet(p.UserId, p.CreatedBy), Before: p.Before, After: p.After,
		ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIProgram)
	return ictcoreapi.ListPrograms200JSONResponse{Body: out, Headers: ictcoreapi.ListPrograms200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetProgram(ctx context.Context, req ictcoreapi.GetProgramRequestObject) (ictcoreapi.GetProgramResponseObject, error) {
	p, err := ictcore.GetProgram(ctx, h.db, ownerOf(ctx), req.ProgramId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetProgram200JSONResponse(toAPIProgram(p)), nil
}

func (h *Handler) DeleteProgram(ctx context.Context, req ictcoreapi.DeleteProgramRequestObject) (ictcoreapi.DeleteProgramResponseObject, error) {
	if err := ictcore.DeleteProgram(ctx, h.db, ownerOf(ctx), req.ProgramId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteProgram200JSONResponse(true), nil
}

// toAPIProgram answers a program with only its type's parameters, as the contract shows it.
func toAPIProgram(p *ictcore.Program) ictcoreapi.Program {
	out := ictcoreapi.Program{ProgramId: p.ID, Name: p.Name, Type: ictcoreapi.ProgramType(p.Type), ParentId: p.ParentID,
		AccountId: p.AccountID, DocumentId: p.DocumentID, TemplateId: p.TemplateID, TextId: p.TextID,
		RecordingId: p.RecordingID, UserId: p.UserID}
	if p.Type == "voicetts" {
		out.Text, out.Delay = &p.Text, &p.Delay
	}
	return out
}
