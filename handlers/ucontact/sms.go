package ucontact

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/convert"
	"switchboard/delivery"
	"switchboard/gateway"
	"switchboard/gen/ucontactapi"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/models/platform"
	"switchboard/models/ucontact"
)

// SMS go through the gateway ICTCore's delivery picks for SMS (delivery.ProviderGateway over the active ICTCore
// provider offering SMS, ictcore.DeliveryProvider; the simulator when there is none): one configuration of
// SMS back ends for the whole service.

// smsGateway answers the gateway of the SMS service and its name for the record.
func (h *Handler) smsGateway(ctx context.Context) (gateway.Gateway, error) {
	prov, err := ictcore.DeliveryProvider(ctx, h.db, int(gateway.SMS))
	if err != nil || prov == nil {
		return h.sim, err
	}
	return delivery.ProviderGateway(prov, h.sim)
}

// smsSendTimeout bounds a SendSMS request's wait for the gateway.
const smsSendTimeout = 30 * time.Second

// send sends a recorded SMS (status sending) and records how it went; the error says why it was not sent
// (its text is safe to show: a gateway never puts credentials in one).
func (h *Handler) send(ctx context.Context, m *ucontact.SMS) error {
	gw, err := h.smsGateway(ctx)
	name := "provider"
	if gw != nil {
		name = gw.Name()
	}
	var res gateway.Result
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, smsSendTimeout)
		res, err = gw.Send(sendCtx, gateway.Message{Service: gateway.SMS, To: m.Phone, From: m.Source, Body: m.Message,
			Ref: "ucontact sms " + strconv.FormatInt(m.ID, 10)})
		cancel()
		if err == nil && res.Status != gateway.Delivered {
			err = fmt.Errorf("%s", res.Reason)
		}
	}
	status, reason := ucontact.SMSSent, res.Reason
	if err != nil {
		status, reason = ucontact.SMSFailed, err.Error()
	}
	if _, serr := ucontact.SetSMSStatus(context.WithoutCancel(ctx), h.db, m.ID, ucontact.SMSSending, status, reason, name); serr != nil {
		return serr
	}
	if err != nil {
		return fmt.Errorf("the SMS gateway (%s) did not take it: %s", name, reason)
	}
	return nil
}

// sendNow records and sends the SMS of a SendSMS form; gatewayErr is why the gateway did not take it.
func (h *Handler) sendNow(ctx context.Context, f *ucontactapi.SendSmsForm) (m *ucontact.SMS, gatewayErr, err error) {
	m = &ucontact.SMS{Direction: ucontact.Outbound, Agent: convert.Deref(f.Agent), Source: convert.Deref(f.Source),
		Phone: f.Destination, Message: f.Message, Status: ucontact.SMSSending, CreatedBy: caller(ctx)}
	if name := convert.Deref(f.Campaign); name != "" {
		camp, err := ucontact.FindCampaign(ctx, h.db, name, ucontact.ChannelSMS)
		if err != nil {
			return nil, nil, err
		}
		m.CampaignID, m.Campaign = camp.ID, camp.Name
		if m.Source == "" {
			m.Source = camp.CallerID
		}
	}
	if err := ucontact.CreateSMS(ctx, h.db, m); err != nil {
		return nil, nil, err
	}
	return m, h.send(ctx, m), nil
}

// SendSms (POST SMS/SendSMS) sends an SMS while the request waits: OK, or 502 ERROR when the gateway
// did not take it.
func (h *Handler) SendSms(ctx context.Context, req ucontactapi.SendSmsRequestObject) (ucontactapi.SendSmsResponseObject, error) {
	_, gwErr, err := h.sendNow(ctx, req.Body)
	if err != nil {
		return nil, err
	}
	if gwErr != nil {
		return ucontactapi.SendSms502TextResponse{SmsBadGatewayTextResponse: ucontactapi.SmsBadGatewayTextResponse{Body: "ERROR",
			Headers: ucontactapi.SmsBadGatewayResponseHeaders{XSwitchboardError: headerText(gwErr.Error())}}}, nil
	}
	return ucontactapi.SendSms200TextResponse("OK"), nil
}

// SendSmsV2 (POST SMS/SendSMSv2) is SendSMS answering the SMS's id.
func (h *Handler) SendSmsV2(ctx context.Context, req ucontactapi.SendSmsV2RequestObject) (ucontactapi.SendSmsV2ResponseObject, error) {
	f := ucontactapi.SendSmsForm(*req.Body)
	m, gwErr, err := h.sendNow(ctx, &f)
	if err != nil {
		return nil, err
	}
	if gwErr != nil {
		return ucontactapi.SendSmsV2502TextResponse{BadGatewayTextResponse: ucontactapi.BadGatewayTextResponse{Body: "0",
			Headers: ucontactapi.BadGatewayResponseHeaders{XSwitchboardError: headerText(gwErr.Error())}}}, nil
	}
	return ucontactapi.SendSmsV2200JSONResponse{Id: strconv.FormatInt(m.ID, 10)}, nil
}

// ReceiveUrlSms (GET InboundSMS/ReceiveURLSMS) records an inbound SMS.
func (h *Handler) ReceiveUrlSms(ctx context.Context, req ucontactapi.ReceiveUrlSmsRequestObject) (ucontactapi.ReceiveUrlSmsResponseObject, error) {
	m := &ucontact.SMS{Direction: ucontact.Inbound, Phone: req.Params.Phone, Message: req.Params.Message, Status: ucontact.SMSReceived,
		CreatedBy: caller(ctx)}
	if err := ucontact.CreateSMS(ctx, h.db, m); err != nil {
		return nil, err
	}
	return ucontactapi.ReceiveUrlSms200TextResponse("OK"), nil
}

// UploadSmsBase (POST SMS/uploadbase) stores every line of a base as a queued SMS with its job, all or
// nothing; the jobs send them at once.
func (h *Handler) UploadSmsBase(ctx context.Context, req ucontactapi.UploadSmsBaseRequestObject) (ucontactapi.UploadSmsBaseResponseObject, error) {
	b := req.Body
	recs, err := ucontact.ParseBase(ucontact.ChannelSMS, b.Campaign, b.Fileb64, b.Cant)
	if err != nil {
		return nil, err
	}
	camp, err := ucontact.FindCampaign(ctx, h.db, b.Campaign, ucontact.ChannelSMS)
	if err != nil {
		return nil, err
	}
	sms := make([]ucontact.SMS, len(recs))
	for i, r := range recs {
		sms[i] = ucontact.SMS{Phone: r.Phone, Message: r.Message, Ref: r.Ref, Source: camp.CallerID, CreatedBy: caller(ctx)}
	}
	up := &ucontact.Upload{Filename: convert.Deref(b.Filename), Username: convert.Deref(b.Username), CreatedBy: caller(ctx)}
	if err := ucontact.QueueSMSBase(ctx, h.db, up, camp, sms, h.enqueueSMS); err != nil {
		return nil, err
	}
	return ucontactapi.UploadSmsBase200TextResponse("1"), nil
}

// smsArgs is the job of one queued SMS (an uploaded base's).
type smsArgs struct {
	SMSID int64 `json:"sms_id"`
}

func (smsArgs) Kind() string { return "ucontact_sms" }

// InsertOpts: a gateway that cannot be reached is tried again a few times, with River's backoff.
func (smsArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type smsWorker struct {
	river.WorkerDefaults[smsArgs]
	h *Handler
}

func (w *smsWorker) Work(ctx context.Context, job *river.Job[smsArgs]) error {
	return w.h.sendQueued(ctx, job.Args.SMSID, job.Attempt, job.MaxAttempts)
}

// enqueueSMS inserts the jobs of SMS just stored, in their transaction.
func (h *Handler) enqueueSMS(tx *gorm.DB, sms []ucontact.SMS) error {
	if h.queue == nil {
		return errNoQueue
	}
	params := make([]river.InsertManyParams, len(sms))
	for i, m := range sms {
		params[i] = river.InsertManyParams{Args: smsArgs{SMSID: m.ID}}
	}
	return h.queue.InsertManyTx(tx, params)
}

// sendQueued sends one queued SMS: claimed once (a rerun after a crash mid-send records it failed rather
// than sending twice), screened against the global do-not-call lists. A gateway that cannot be reached is
// retried by the job until its last attempt, which records the SMS failed.
func (h *Handler) sendQueued(ctx context.Context, id int64, attempt, maxAttempts int) error {
	m, err := ucontact.GetSMS(ctx, h.db, id)
	if models.KindOf(err) == models.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	switch m.Status {
	case ucontact.SMSQueued:
	case ucontact.SMSSending:
		_, err := ucontact.SetSMSStatus(ctx, h.db, id, ucontact.SMSSending, ucontact.SMSFailed, "interrupted while sending; outcome unknown, not sent again", "")
		return err
	default:
		return nil
	}
	listed, err := platform.DoNotCall(ctx, h.db, h.region, 0, []string{m.Phone})
	if err != nil {
		return err
	}
	if list, ok := listed[m.Phone]; ok {
		_, err := ucontact.SetSMSStatus(ctx, h.db, id, ucontact.SMSQueued, ucontact.SMSDoNotCall,
			fmt.Sprintf("%s is on the do-not-call list %q; not sent", m.Phone, list), "")
		return err
	}
	if ok, err := ucontact.SetSMSStatus(ctx, h.db, id, ucontact.SMSQueued, ucontact.SMSSending, "", ""); err != nil || !ok {
		return err
	}
	gw, err := h.smsGateway(ctx)
	if err != nil { // a broken provider: a retry would not fix it
		_, serr := ucontact.SetSMSStatus(ctx, h.db, id, ucontact.SMSSending, ucontact.SMSFailed, err.Error(), "provider")
		return serr
	}
	res, sendErr := gw.Send(ctx, gateway.Message{Service: gateway.SMS, To: m.Phone, From: m.Source, Body: m.Message,
		Ref: "ucontact sms " + strconv.FormatInt(id, 10)})
	wctx := context.WithoutCancel(ctx)
	if sendErr != nil {
		if attempt < maxAttempts {
			if _, err := ucontact.SetSMSStatus(wctx, h.db, id, ucontact.SMSSending, ucontact.SMSQueued, "", ""); err != nil {
				return err
			}
			return sendErr
		}
		_, err := ucontact.SetSMSStatus(wctx, h.db, id, ucontact.SMSSending, ucontact.SMSFailed, sendErr.Error(), gw.Name())
		return err
	}
	status := ucontact.SMSSent
	if res.Status != gateway.Delivered {
		status = ucontact.SMSFailed
	}
	_, err = ucontact.SetSMSStatus(wctx, h.db, id, ucontact.SMSSending, status, res.Reason, gw.Name())
	return err
}
