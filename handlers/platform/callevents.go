package platform

import (
	"context"

	"switchboard/convert"
	"switchboard/gen/platformapi"
	"switchboard/models"
	"switchboard/models/events"
)

// sourcePlatform is the Source of the call events this API publishes.
const sourcePlatform = "platform"

var errNoEvents = models.Errorf(models.Busy, "the call-event stream is not running on this node")

// PostCallEvent (POST /call-events) publishes the event, once: the same call's unique id and state sent
// again answers the stored event.
func (h *Handler) PostCallEvent(ctx context.Context, req platformapi.PostCallEventRequestObject) (platformapi.PostCallEventResponseObject, error) {
	if h.events == nil {
		return nil, errNoEvents
	}
	b := req.Body
	stored, _, err := h.events.Publish(ctx, events.CallEvent{UniqueID: b.UniqueId, Direction: string(b.Direction), Phone: b.Phone,
		Agent: convert.Deref(b.Agent), CallCenter: convert.Deref(b.CallCenter), State: string(b.State), Source: sourcePlatform,
		Variables: convert.Deref(b.Variables)})
	if err != nil {
		return nil, err
	}
	return platformapi.PostCallEvent202JSONResponse(toCallEvent(stored)), nil
}

func toCallEvent(e events.CallEvent) platformapi.CallEvent {
	out := platformapi.CallEvent{UniqueId: e.UniqueID, Direction: platformapi.CallDirection(e.Direction), Phone: e.Phone,
		CallCenter: e.CallCenter, State: platformapi.CallState(e.State), Source: e.Source, ReceivedAt: e.ReceivedAt.UTC()}
	if e.Agent != "" {
		out.Agent = &e.Agent
	}
	if len(e.Variables) > 0 {
		v := platformapi.CallVariables(e.Variables)
		out.Variables = &v
	}
	return out
}
