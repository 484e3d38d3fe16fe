package ictcore

import (
	"context"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
	"switchboard/server"
)

// CreateGroup (POST /groups).
func (h *Handler) CreateGroup(ctx context.Context, req ictcoreapi.CreateGroupRequestObject) (ictcoreapi.CreateGroupResponseObject, error) {
	g := &ictcore.Group{Name: req.Body.Name, Description: convert.Deref(req.Body.Description), UserID: auth.PrincipalFrom(ctx).UserID}
	if err := ictcore.CreateGroup(ctx, h.db, g); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateGroup200JSONResponse(idAnswer[ictcoreapi.GroupCreated](h.bareIDs, "group_id", g.ID)), nil
}

// ListGroups (GET /groups).
func (h *Handler) ListGroups(ctx context.Context, req ictcoreapi.ListGroupsRequestObject) (ictcoreapi.ListGroupsResponseObject, error) {
	p := req.Params
	page, err := ictcore.ListGroups(ctx, h.db, ictcore.GroupFilter{Owner: ownerOf(ctx),
		GroupID: p.GroupId, UserID: firstSet(p.UserId, p.CreatedBy), Name: p.Name, Before: p.Before, After: p.After,
		ListQuery: listQuery(p.Limit, p.Offset, p.AfterGroupId, p.Count),
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListGroups200JSONResponse{Body: toAPIGroups(page.Items), Headers: ictcoreapi.ListGroups200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, "after_group_id"),
	}}, nil
}

// GetGroup (GET /groups/{group_id}).
func (h *Handler) GetGroup(ctx context.Context, req ictcoreapi.GetGroupRequestObject) (ictcoreapi.GetGroupResponseObject, error) {
	g, err := ictcore.GetGroup(ctx, h.db, ownerOf(ctx), req.GroupId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetGroup200JSONResponse(toAPIGroup(g)), nil
}

// UpdateGroup (PUT /groups/{group_id}): only the fields sent change.
func (h *Handler) UpdateGroup(ctx context.Context, req ictcoreapi.UpdateGroupRequestObject) (ictcoreapi.UpdateGroupResponseObject, error) {
	g, err := ictcore.UpdateGroup(ctx, h.db, ownerOf(ctx), req.GroupId, ictcore.GroupChanges{Name: req.Body.Name, Description: req.Body.Description})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateGroup200JSONResponse(toAPIGroup(g)), nil
}

// DeleteGroup (DELETE /groups/{group_id}).
func (h *Handler) DeleteGroup(ctx context.Context, req ictcoreapi.DeleteGroupRequestObject) (ictcoreapi.DeleteGroupResponseObject, error) {
	if err := ictcore.DeleteGroup(ctx, h.db, ownerOf(ctx), req.GroupId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteGroup200JSONResponse(true), nil
}

// ListGroupContacts (GET /groups/{group_id}/contacts).
func (h *Handler) ListGroupContacts(ctx context.Context, req ictcoreapi.ListGroupContactsRequestObject) (ictcoreapi.ListGroupContactsResponseObject, error) {
	// The group's owner sees all of its members (an admin may have linked others' contacts).
	if _, err := ictcore.GetGroup(ctx, h.db, ownerOf(ctx), req.GroupId); err != nil {
		return nil, err
	}
	p := req.Params
	page, err := ictcore.ListContacts(ctx, h.db, contactFilter{Owner: ictcore.AnyOwner,
		GroupID: &req.GroupId, ContactID: p.ContactId, UserID: p.UserId, CreatedBy: p.CreatedBy, Before: p.Before,
		After: p.After, AfterContactID: p.AfterContactId, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, Limit: p.Limit, Offset: p.Offset, Count: p.Count,
	}.toModel())
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ListGroupContacts200JSONResponse{Body: toAPIContacts(page.Items), Headers: ictcoreapi.ListGroupContacts200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, "after_contact_id"),
	}}, nil
}
