package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
)

// CreateContact (POST /contacts).
func (h *Handler) CreateContact(ctx context.Context, req ictcoreapi.CreateContactRequestObject) (ictcoreapi.CreateContactResponseObject, error) {
	if err := allow(ctx, "contact_create"); err != nil {
		return nil, err
	}
	if deref(req.Body.Phone) == "" && req.Body.Email == nil {
		return nil, fail(412, "Data validation failed, contact needs a phone or an email")
	}
	c := toModelContact(req.Body, auth.PrincipalFrom(ctx).UserID)
	if err := models.CreateContact(ctx, h.db, c); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateContact200JSONResponse{ContactId: c.ID}, nil
}

// ListContacts (GET /contacts).
func (h *Handler) ListContacts(ctx context.Context, req ictcoreapi.ListContactsRequestObject) (ictcoreapi.ListContactsResponseObject, error) {
	if err := allow(ctx, "contact_list"); err != nil {
		return nil, err
	}
	p := req.Params
	f := contactFilter{
		ContactID: p.ContactId, UserID: p.UserId, CreatedBy: p.CreatedBy, Before: p.Before, After: p.After,
		AfterContactID: p.AfterContactId, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Limit: p.Limit, Offset: p.Offset,
	}
	cs, total, err := models.ListContacts(ctx, h.db, f.toModel(p.GroupId))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListContacts200JSONResponse{
		Body: toAPIContacts(cs), Headers: ictcoreapi.ListContacts200ResponseHeaders{XTotalCount: totalHeader(total)},
	}, nil
}

// GetContact (GET /contacts/{contact_id}).
func (h *Handler) GetContact(ctx context.Context, req ictcoreapi.GetContactRequestObject) (ictcoreapi.GetContactResponseObject, error) {
	if err := allow(ctx, "contact_read"); err != nil {
		return nil, err
	}
	c, err := models.GetContact(ctx, h.db, req.ContactId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetContact200JSONResponse(toAPIContact(c)), nil
}

// UpdateContact (PUT /contacts/{contact_id}): only the fields sent change.
func (h *Handler) UpdateContact(ctx context.Context, req ictcoreapi.UpdateContactRequestObject) (ictcoreapi.UpdateContactResponseObject, error) {
	if err := allow(ctx, "contact_update"); err != nil {
		return nil, err
	}
	if e := req.Body.Email; e != nil && *e != "" && !validEmail(*e) {
		return nil, fail(412, "Data validation failed, email %q is not an e-mail address", *e)
	}
	c, err := models.UpdateContact(ctx, h.db, req.ContactId, toContactChanges(req.Body))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateContact200JSONResponse(toAPIContact(c)), nil
}

// DeleteContact (DELETE /contacts/{contact_id}).
func (h *Handler) DeleteContact(ctx context.Context, req ictcoreapi.DeleteContactRequestObject) (ictcoreapi.DeleteContactResponseObject, error) {
	if err := allow(ctx, "contact_delete"); err != nil {
		return nil, err
	}
	if err := models.DeleteContact(ctx, h.db, req.ContactId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteContact200JSONResponse(true), nil
}

// LinkContact (PUT /contacts/{contact_id}/link/{group_id}).
func (h *Handler) LinkContact(ctx context.Context, req ictcoreapi.LinkContactRequestObject) (ictcoreapi.LinkContactResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, true)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.LinkContact200JSONResponse(*c), nil
}

// UnlinkContact (DELETE /contacts/{contact_id}/link/{group_id}).
func (h *Handler) UnlinkContact(ctx context.Context, req ictcoreapi.UnlinkContactRequestObject) (ictcoreapi.UnlinkContactResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, false)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UnlinkContact200JSONResponse(*c), nil
}

// UnlinkContactByGet (GET /contacts/{contact_id}/link/{group_id}): the guide's GET form of the delete.
func (h *Handler) UnlinkContactByGet(ctx context.Context, req ictcoreapi.UnlinkContactByGetRequestObject) (ictcoreapi.UnlinkContactByGetResponseObject, error) {
	c, err := h.link(ctx, req.ContactId, req.GroupId, false)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UnlinkContactByGet200JSONResponse(*c), nil
}

// link adds the contact to the group, or takes it out, and answers the contact.
func (h *Handler) link(ctx context.Context, contactID, groupID int64, add bool) (*ictcoreapi.Contact, error) {
	change := models.UnlinkContact
	perm := "contact_delete"
	if add {
		change, perm = models.LinkContact, "contact_create"
	}
	if err := allow(ctx, perm); err != nil {
		return nil, err
	}
	if err := change(ctx, h.db, contactID, groupID); err != nil {
		return nil, err
	}
	c, err := models.GetContact(ctx, h.db, contactID)
	if err != nil {
		return nil, err
	}
	out := toAPIContact(c)
	return &out, nil
}
