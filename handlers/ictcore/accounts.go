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

// Accounts: CRUD, owner change and settings. passwd and passwd_pin are write-only: only their hashes are
// stored, and no answer carries them. A user who is not an admin sees and changes only the accounts it
// owns (ownerOf); a dissociated account (no owner) is an admin's alone. account_id and user_id sent in a
// body are ignored (answer-only). Program subscriptions (subscribe, unsubscribe, clear) come with programs.

// CreateAccount (POST /accounts): the new account belongs to the caller.
func (h *Handler) CreateAccount(ctx context.Context, req ictcoreapi.CreateAccountRequestObject) (ictcoreapi.CreateAccountResponseObject, error) {
	in := req.Body
	owner := auth.PrincipalFrom(ctx).UserID
	a := &ictcore.Account{Type: string(ictcoreapi.AccountInputTypeAccount), Username: in.Username,
		FirstName: convert.Deref(in.FirstName), LastName: convert.Deref(in.LastName), Phone: convert.Deref(in.Phone),
		Address: convert.Deref(in.Address), Active: int(convert.Deref(in.Active)), UserID: &owner, Settings: convert.Deref(in.Settings)}
	if in.Type != nil {
		a.Type = string(*in.Type)
	}
	if in.Email != nil {
		a.Email = string(*in.Email)
	}
	var err error
	if a.PasswdHash, err = hashSecret("passwd", in.Passwd); err != nil {
		return nil, err
	}
	if a.PinHash, err = hashSecret("passwd_pin", in.PasswdPin); err != nil {
		return nil, err
	}
	if err := ictcore.CreateAccount(ctx, h.db, a); err != nil {
		return nil, err
	}
	return ictcoreapi.CreateAccount200JSONResponse(idAnswer[ictcoreapi.AccountCreated](h.bareIDs, "account_id", a.ID)), nil
}

// ListAccounts (GET /accounts).
func (h *Handler) ListAccounts(ctx context.Context, req ictcoreapi.ListAccountsRequestObject) (ictcoreapi.ListAccountsResponseObject, error) {
	p := req.Params
	f := ictcore.AccountFilter{ID: p.AccountId, UserID: firstSet(p.UserId, p.CreatedBy), Before: p.Before,
		After: p.After, Username: p.Username, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName,
		LastName: p.LastName, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)}
	if p.Type != nil {
		t := string(*p.Type)
		f.Type = &t
	}
	page, err := ictcore.ListAccounts(ctx, h.db, ownerOf(ctx), f)
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIAccount)
	return ictcoreapi.ListAccounts200JSONResponse{Body: out, Headers: ictcoreapi.ListAccounts200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

// GetAccount (GET /accounts/{account_id}).
func (h *Handler) GetAccount(ctx context.Context, req ictcoreapi.GetAccountRequestObject) (ictcoreapi.GetAccountResponseObject, error) {
	a, err := ictcore.GetAccount(ctx, h.db, ownerOf(ctx), req.AccountId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetAccount200JSONResponse(toAPIAccount(a)), nil
}

// UpdateAccount (PUT /accounts/{account_id}): only the fields sent change; settings are merged key by key.
func (h *Handler) UpdateAccount(ctx context.Context, req ictcoreapi.UpdateAccountRequestObject) (ictcoreapi.UpdateAccountResponseObject, error) {
	in := req.Body
	// Hash before the transaction: bcrypt is slow, and the account's row stays locked while it runs.
	passwd, err := hashSecret("passwd", in.Passwd)
	if err != nil {
		return nil, err
	}
	pin, err := hashSecret("passwd_pin", in.PasswdPin)
	if err != nil {
		return nil, err
	}
	a, err := ictcore.UpdateAccount(ctx, h.db, ownerOf(ctx), req.AccountId, convert.Deref(in.Settings), func(a *ictcore.Account) error {
		if in.Type != nil {
			a.Type = string(*in.Type)
		}
		set(&a.Username, in.Username)
		set(&a.FirstName, in.FirstName)
		set(&a.LastName, in.LastName)
		set(&a.Phone, in.Phone)
		set(&a.Email, in.Email)
		set(&a.Address, in.Address)
		if in.Active != nil {
			a.Active = int(*in.Active)
		}
		if in.Passwd != nil {
			a.PasswdHash = passwd
		}
		if in.PasswdPin != nil {
			a.PinHash = pin
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateAccount200JSONResponse(toAPIAccount(a)), nil
}

// DeleteAccount (DELETE /accounts/{account_id}): the account, its settings and subscriptions go in one
// transaction.
func (h *Handler) DeleteAccount(ctx context.Context, req ictcoreapi.DeleteAccountRequestObject) (ictcoreapi.DeleteAccountResponseObject, error) {
	if err := ictcore.DeleteAccount(ctx, h.db, ownerOf(ctx), req.AccountId); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteAccount200JSONResponse(true), nil
}

// AssignAccountUser (PUT /accounts/{account_id}/users/{user_id}): answers the account with its new owner;
// its program subscriptions, the previous owner's, are cleared (ictcore.AssignAccount).
func (h *Handler) AssignAccountUser(ctx context.Context, req ictcoreapi.AssignAccountUserRequestObject) (ictcoreapi.AssignAccountUserResponseObject, error) {
	a, err := ictcore.AssignAccount(ctx, h.db, ownerOf(ctx), req.AccountId, req.UserId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.AssignAccountUser200JSONResponse(toAPIAccount(a)), nil
}

// DissociateAccountUser (DELETE /accounts/{account_id}/users): answers the account, now without owner.
func (h *Handler) DissociateAccountUser(ctx context.Context, req ictcoreapi.DissociateAccountUserRequestObject) (ictcoreapi.DissociateAccountUserResponseObject, error) {
	a, err := ictcore.DissociateAccount(ctx, h.db, ownerOf(ctx), req.AccountId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.DissociateAccountUser200JSONResponse(toAPIAccount(a)), nil
}

// GetAccountSetting (GET /accounts/{account_id}/settings/{name}): answers {"value": …}.
func (h *Handler) GetAccountSetting(ctx context.Context, req ictcoreapi.GetAccountSettingRequestObject) (ictcoreapi.GetAccountSettingResponseObject, error) {
	v, err := ictcore.GetAccountSetting(ctx, h.db, ownerOf(ctx), req.AccountId, req.Name)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetAccountSetting200JSONResponse{Value: v}, nil
}

// UpdateAccountSetting (PUT /accounts/{account_id}/settings/{name}): creates or replaces the setting.
func (h *Handler) UpdateAccountSetting(ctx context.Context, req ictcoreapi.UpdateAccountSettingRequestObject) (ictcoreapi.UpdateAccountSettingResponseObject, error) {
	v, err := settingValue(req.Name, req.Body)
	if err != nil {
		return nil, err
	}
	if err := ictcore.PutAccountSetting(ctx, h.db, ownerOf(ctx), req.AccountId, req.Name, v); err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateAccountSetting200JSONResponse(true), nil
}

// DeleteAccountSetting (DELETE /accounts/{account_id}/settings/{name}).
func (h *Handler) DeleteAccountSetting(ctx context.Context, req ictcoreapi.DeleteAccountSettingRequestObject) (ictcoreapi.DeleteAccountSettingResponseObject, error) {
	if err := ictcore.DeleteAccountSetting(ctx, h.db, ownerOf(ctx), req.AccountId, req.Name); err != nil {
		return nil, err
	}
	return ictcoreapi.DeleteAccountSetting200JSONResponse(true), nil
}

// maxSecretBytes is the longest secret bcrypt hashes (it refuses longer ones rather than cut them).
const maxSecretBytes = 72

// hashSecret answers the hash of the write-only secret sent in field, or "" (no secret) when none or an
// empty one was sent.
func hashSecret(field string, secret *string) (string, error) {
	if secret == nil || *secret == "" {
		return "", nil
	}
	if len(*secret) > maxSecretBytes {
		return "", models.Errorf(models.Invalid, "%s: at most %d bytes", field, maxSecretBytes)
	}
	return auth.HashPassword(*secret)
}

// toAPIAccount answers an account as the contract shows it: never a password or its hash.
func toAPIAccount(a *ictcore.Account) ictcoreapi.Account {
	settings := a.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	return ictcoreapi.Account{AccountId: a.ID, Type: ictcoreapi.AccountType(a.Type), Username: a.Username,
		FirstName: &a.FirstName, LastName: &a.LastName, Phone: &a.Phone, Email: &a.Email, Address: &a.Address,
		Active: ictcoreapi.AccountActive(a.Active), Settings: &settings, UserId: a.UserID}
}

// SubscribeAccountProgram (PUT /accounts/{account_id}/programs/{program_id}): answers the account.
func (h *Handler) SubscribeAccountProgram(ctx context.Context, req ictcoreapi.SubscribeAccountProgramRequestObject) (ictcoreapi.SubscribeAccountProgramResponseObject, error) {
	a, err := ictcore.SubscribeProgram(ctx, h.db, ownerOf(ctx), req.AccountId, req.ProgramId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.SubscribeAccountProgram200JSONResponse(toAPIAccount(a)), nil
}

// UnsubscribeAccountProgram (DELETE /accounts/{account_id}/programs/{program_id}): answers the account.
func (h *Handler) UnsubscribeAccountProgram(ctx context.Context, req ictcoreapi.UnsubscribeAccountProgramRequestObject) (ictcoreapi.UnsubscribeAccountProgramResponseObject, error) {
	a, err := ictcore.UnsubscribeProgram(ctx, h.db, ownerOf(ctx), req.AccountId, &req.ProgramId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UnsubscribeAccountProgram200JSONResponse(toAPIAccount(a)), nil
}

// ClearAccountPrograms (DELETE /accounts/{account_id}/programs): answers the account.
func (h *Handler) ClearAccountPrograms(ctx context.Context, req ictcoreapi.ClearAccountProgramsRequestObject) (ictcoreapi.ClearAccountProgramsResponseObject, error) {
	a, err := ictcore.UnsubscribeProgram(ctx, h.db, ownerOf(ctx), req.AccountId, nil)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.ClearAccountPrograms200JSONResponse(toAPIAccount(a)), nil
}

// settingValue reads a setting's new value from the body's value, data (the reference code's key) or the
// guide's Account body's settings entry of that name, in that order (review R6).
func settingValue(name string, in *ictcoreapi.AccountSettingInput) (string, error) {
	switch {
	case in.Value != nil:
		return *in.Value, nil
	case in.Data != nil:
		return *in.Data, nil
	case in.Settings != nil:
		if v, ok := (*in.Settings)[name]; ok {
			return v, nil
		}
	}
	return "", models.Errorf(models.Invalid, "value is missing: give value, data or settings.%s", name)
}
