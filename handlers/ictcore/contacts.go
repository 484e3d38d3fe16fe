package ictcore

import (
	"context"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// CreateContact (POST /contacts).
func (h *Handler) CreateContact(ctx context.Context, req ictcoreapi.CreateContactRequestObject) (ictcoreapi.CreateContactResponseObject, error) {
	c := toModelContact(req.Body, auth.PrincipalFrom(ctx).UserID)
	if err := ictcore.CreateContact(ctx, h.db, c); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateContact200JSONResponse(idAnswer[ictcoreapi.ContactCreated](h.bareIDs, "contact_id", c.ID)), nil
}

// ListContacts (GET /contacts).
func (h *Handler) ListContacts(ctx context.Context, req ictcoreapi.ListContactsRequestObject) (ictcoreapi.ListContactsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListContacts(ctx, h.db, contactFilter{Owner: ownerOf(ctx),
		GroupID: p.GroupId, ContactID: p.ContactId, UserID: p.UserId, CreatedBy: p.CreatedBy, Before: p.Before,
		After: p.After, AfterContactID: p.AfterContactId, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Limit: p.Limit, Offset: p.Offset, Count: p.Count,
	}.toModel())
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListContacts200JSONResponse{Body: toAPIContacts(page.Items), Headers: ictcoreapi.ListContacts200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, "after_contact_id"),
	}}, nil
}

// GetContact (GET /contacts/{contact_id}).
func (h *Handler) GetContact(ctx context.Context, req ictcoreapi.GetContactRequestObject) (ictcoreapi.GetContactResponseObject, error) {
	c, err := ictcore.GetContact(ctx, h.db, ownerOf(ctx), req.ContactId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetContact200JSONResponse(toAPIContact(c)), nil
}

// UpdateContact (PUT /contacts/{contact_id}): only the fields sent change.
func (h *Handler) UpdateContact(ctx context.Context, req ictcoreapi.UpdateContactRequestObject) (ictcoreapi.UpdateContactResponseObject, error) {
	c, err := ictcore.UpdateContact(ctx, h.db, ownerOf(ctx), req.ContactId, toContactChanges(req.Body))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateContact200JSONResponse(toAPIContact(c)), nil
}

// DeleteContact (DELETE /contacts/{contact_id}).
func (h *Handler) DeleteContact(ctx context.Context, req ictcoreapi.DeleteContactRequestObject) (ictcoreapi.DeleteContactResponseObject, error) {
	if err := ictcore.DeleteContact(ctx, h.db, ownerOf(ctx), req.ContactId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteContact200JSONResponse(true), nil
}

// LinkContact (PUT /contacts/{contact_id}/link/{group_id}).
func (h *Handler) LinkContact(ctx context.Context, req ictcoreapi.LinkContactRequestObject) (ictcoreapi.LinkContactResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, ictcore.LinkContact)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.LinkContact200JSONResponse(*c), nil
}

// UnlinkContact (DELETE /contacts/{contact_id}/link/{group_id}).
func (h *Handler) UnlinkContact(ctx context.Context, req ictcoreapi.UnlinkContactRequestObject) (ictcoreapi.UnlinkContactResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, ictcore.UnlinkContact)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UnlinkContact200JSONResponse(*c), nil
}

// UnlinkContactByGet (GET /contacts/{contact_id}/link/{group_id}): the guide's GET form of the delete.
func (h *Handler) UnlinkContactByGet(ctx context.Context, req ictcoreapi.UnlinkContactByGetRequestObject) (ictcoreapi.UnlinkContactByGetResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, ictcore.UnlinkContact)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UnlinkContactByGet200JSONResponse(*c), nil
}

// link applies change (link or unlink) and answers the contact.
func (h *Handler) link(ctx context.Context, contactID, groupID int64,
	change func(context.Context, *gorm.DB, ictcore.Owner, int64, int64) error) (*ictcoreapi.Contact, error) {
	o := ownerOf(ctx)
	if err := change(ctx, h.db, o, contactID, groupID); err != nil {
		return nil, err
	}
	c, err := ictcore.GetContact(ctx, h.db, o, contactID)
	if err != nil {
		return nil, err
	}
	out := toAPIContact(c)
	return &out, nil
}
