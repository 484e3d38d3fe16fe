package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
)

// CreateGroup (POST /groups).
func (h *Handler) CreateGroup(ctx context.Context, req ictcoreapi.CreateGroupRequestObject) (ictcoreapi.CreateGroupResponseObject, error) {
	if err := allow(ctx, "group_create"); err != nil {
		return nil, err
	}
	g := &models.Group{Name: req.Body.Name, Description: deref(req.Body.Description), UserID: auth.PrincipalFrom(ctx).UserID}
	if err := models.CreateGroup(ctx, h.db, g); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateGroup200JSONResponse{GroupId: g.ID}, nil
}

// ListGroups (GET /groups).
func (h *Handler) ListGroups(ctx context.Context, req ictcoreapi.ListGroupsRequestObject) (ictcoreapi.ListGroupsResponseObject, error) {
	if err := allow(ctx, "group_list"); err != nil {
		return nil, err
	}
	p := req.Params
	userID := p.UserId
	if userID == nil {
		userID = p.CreatedBy
	}
	gs, total, err := models.ListGroups(ctx, h.db, models.GroupFilter{
		GroupID: p.GroupId, UserID: userID, Name: p.Name, Before: p.Before, After: p.After, Page: page(p.Limit, p.Offset),
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListGroups200JSONResponse{
		Body: toAPIGroups(gs), Headers: ictcoreapi.ListGroups200ResponseHeaders{XTotalCount: &total},
	}, nil
}

// GetGroup (GET /groups/{group_id}).
func (h *Handler) GetGroup(ctx context.Context, req ictcoreapi.GetGroupRequestObject) (ictcoreapi.GetGroupResponseObject, error) {
	if err := allow(ctx, "group_read"); err != nil {
		return nil, err
	}
	g, err := models.GetGroup(ctx, h.db, req.GroupId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetGroup200JSONResponse(toAPIGroup(g)), nil
}

// UpdateGroup (PUT /groups/{group_id}): only the fields sent change.
func (h *Handler) UpdateGroup(ctx context.Context, req ictcoreapi.UpdateGroupRequestObject) (ictcoreapi.UpdateGroupResponseObject, error) {
	if err := allow(ctx, "group_update"); err != nil {
		return nil, err
	}
	g, err := models.UpdateGroup(ctx, h.db, req.GroupId, models.GroupChanges{Name: req.Body.Name, Description: req.Body.Description})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateGroup200JSONResponse(toAPIGroup(g)), nil
}

// DeleteGroup (DELETE /groups/{group_id}).
func (h *Handler) DeleteGroup(ctx context.Context, req ictcoreapi.DeleteGroupRequestObject) (ictcoreapi.DeleteGroupResponseObject, error) {
	if err := allow(ctx, "group_delete"); err != nil {
		return nil, err
	}
	if err := models.DeleteGroup(ctx, h.db, req.GroupId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteGroup200JSONResponse(true), nil
}

// ListGroupContacts (GET /groups/{group_id}/contacts).
func (h *Handler) ListGroupContacts(ctx context.Context, req ictcoreapi.ListGroupContactsRequestObject) (ictcoreapi.ListGroupContactsResponseObject, error) {
	if err := allow(ctx, "group_read"); err != nil {
		return nil, err
	}
	if _, err := models.GetGroup(ctx, h.db, req.GroupId); err != nil {
		return nil, err
	}
	p := req.Params
	f := contactFilter{
		ContactID: p.ContactId, UserID: p.UserId, CreatedBy: p.CreatedBy, Before: p.Before, After: p.After,
		AfterContactID: p.AfterContactId, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Limit: p.Limit, Offset: p.Offset,
	}
	cs, total, err := models.ListContacts(ctx, h.db, f.toModel(&req.GroupId))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListGroupContacts200JSONResponse{
		Body: toAPIContacts(cs), Headers: ictcoreapi.ListGroupContacts200ResponseHeaders{XTotalCount: totalHeader(total)},
	}, nil
}
