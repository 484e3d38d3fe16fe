package accolades

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"time"

	"switchboard/convert"
	"switchboard/gateway"
	"switchboard/gen/accoladesapi"
	"switchboard/models"
	"switchboard/models/accolades"
	"switchboard/models/events"
	"switchboard/models/identity"
	"switchboard/server"
)

// The REST API (openapi/accolades-api.yaml): every request carries the account's API password in its form.

// errUnauthorized answers an unknown account, a missing password and a wrong one alike.
var errUnauthorized = models.Errorf(models.Unauthenticated, "Unauthorized")

// account checks the path's account number and the form's password through the server's login guard
// (failures counted per account and per address; over the limit a Throttled error, the vendor's 403.6).
func (h *Handler) account(ctx context.Context, number, password string) (*accolades.Account, error) {
	a, err := accolades.FindAccount(ctx, h.db, number)
	found := err == nil
	if err != nil && models.KindOf(err) != models.NotFound {
		return nil, err
	}
	hash := ""
	if found {
		hash = a.PasswordHash
	}
	ok, err := identity.GuardedCheck(ctx, h.logins, "accolades/"+number, server.ClientAddr(ctx), hash, found, password)
	if err != nil {
		return nil, err
	}
	if !ok || !found || password == "" {
		return nil, errUnauthorized
	}
	return a, nil
}

// Ping (POST /{accountNumber}/ping/) answers pong to the right credentials.
func (h *Handler) Ping(ctx context.Context, req accoladesapi.PingRequestObject) (accoladesapi.PingResponseObject, error) {
	var pw string
	if req.Body != nil {
		pw = convert.Deref(req.Body.Password)
	}
	if _, err := h.account(ctx, req.AccountNumber, pw); err != nil {
		return nil, err
	}
	return accoladesapi.Ping200JSONResponse{Type: accoladesapi.PongTypePong}, nil
}

// Dial (POST /{accountNumber}/dial/) starts a call from the device's agent to phoneNumber: the outbound
// ringing event is published (the CRM of the agent gets outgoingCall) before the answer, then the device
// is rung through the simulator and the call's answered or ended event follows.
func (h *Handler) Dial(ctx context.Context, req accoladesapi.DialRequestObject) (accoladesapi.DialResponseObject, error) {
	b := req.Body
	a, err := h.account(ctx, req.AccountNumber, convert.Deref(b.Password))
	if err != nil {
		return nil, err
	}
	agent, err := accolades.FindByDevice(ctx, h.db, a.ID, b.DeviceId)
	if err != nil {
		return nil, err
	}
	e, err := h.startCall(ctx, agent, b.PhoneNumber)
	if err != nil {
		return nil, err
	}
	go h.ringDevice(agent.DeviceID, e)
	return accoladesapi.Dial200JSONResponse{Type: accoladesapi.OkTypeOk}, nil
}

// Source is the call events' source of calls started through dial/.
const Source = "accolades"

// startCall publishes the ringing event of a new outbound call under a fresh Accolades call id. An id
// another call has already (two nodes drawing the same in the same second) is drawn again.
func (h *Handler) startCall(ctx context.Context, agent *accolades.Agent, phone string) (events.CallEvent, error) {
	for range 3 {
		e := events.CallEvent{UniqueID: newCallID(time.Now()), Direction: events.Outbound, Phone: phone, Agent: agent.CrmID,
			State: events.Ringing, Source: Source}
		stored, fresh, err := h.publish(ctx, e)
		if err != nil {
			return e, err
		}
		if fresh {
			return stored, nil
		}
	}
	return events.CallEvent{}, models.Errorf(models.Busy, "no free call id, retry")
}

// newCallID answers an id as Accolades writes them ("1608743891.1344"): the unix second, a random number.
func newCallID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(now.Unix(), 10) + "." + strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[:])), 10)
}

// publish records and broadcasts a call event; without a publisher (the stream not wired) it goes to this
// node's sockets directly.
func (h *Handler) publish(ctx context.Context, e events.CallEvent) (events.CallEvent, bool, error) {
	if h.publisher != nil {
		return h.publisher.Publish(ctx, e)
	}
	e.ReceivedAt = time.Now().UTC()
	h.Deliver(e)
	return e, true, nil
}

// ringDevice rings the device through the simulator and publishes how it went: answered, or ended (no
// answer, busy, failed). It runs after dial/ has answered, until the handler's lifetime ends.
func (h *Handler) ringDevice(device string, e events.CallEvent) {
	res, err := h.ring.Send(h.ctx, gateway.Message{Service: gateway.Voice, To: device, Ref: "accolades dial " + e.UniqueID})
	if err != nil {
		h.log.Warn("accolades dial: the simulator did not ring the device", "device", device, "unique_id", e.UniqueID, "error", err)
		return
	}
	e.State = events.Ended
	if res.Status == gateway.Delivered {
		e.State = events.Answered
	}
	h.log.Info("accolades dial: device rung through the simulator", "device", device, "unique_id", e.UniqueID,
		"result", res.Status, "simulated", res.Simulated)
	ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
	defer cancel()
	if _, _, err := h.publish(ctx, e); err != nil {
		h.log.Warn("accolades dial: publish", "unique_id", e.UniqueID, "state", e.State, "error", err)
	}
}
