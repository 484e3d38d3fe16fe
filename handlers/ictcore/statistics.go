package ictcore

import (
	"context"

	"switchboard/gen/ictcoreapi"
	"switchboard/models/ictcore"
)

// GetStatistics (GET /statistics): counters over what the caller may see (everything for an admin).
func (h *Handler) GetStatistics(ctx context.Context, req ictcoreapi.GetStatisticsRequestObject) (ictcoreapi.GetStatisticsResponseObject, error) {
	p := req.Params
	since := p.Since // since, from and date_created spell the same bound
	if since == nil {
		since = p.From
	}
	if since == nil {
		since = p.DateCreated
	}
	f := ictcore.StatisticsFilter{Since: since, UserID: firstSet(p.UserId, p.CreatedBy)}
	if p.ServiceFlag != nil {
		sf := int(*p.ServiceFlag)
		f.ServiceFlag = &sf
	}
	if p.AccountType != nil {
		t := string(*p.AccountType)
		f.AccountType = &t
	}
	s, err := ictcore.GetStatistics(ctx, h.db, ownerOf(ctx), f)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetStatistics200JSONResponse{
		UserTotal: int(s.Users), AccountTotal: int(s.Accounts), CampaignTotal: int(s.Campaigns),
		CampaignActive: int(s.CampaignsActive), GroupTotal: int(s.Groups), ContactTotal: int(s.Contacts),
		TransmissionTotal: int(s.Transmissions), TransmissionActive: int(s.TransmissionsActive),
		TransmissionInbound: int(s.TransmissionsInbound), TransmissionOutbound: int(s.TransmissionsOutbound),
		SpoolTotal: int(s.Spools), SpoolSuccess: int(s.SpoolsCompleted), SpoolFailed: int(s.SpoolsFailed),
	}, nil
}
