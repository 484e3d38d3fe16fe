package realtime

import (
	"log/slog"
	"sync"

	"switchboard/models/events"
)

// The call-event bus (DESIGN §6): one per node. It hands every call event to the node's listeners (the
// Accolades hub, tests, the bench) on one delivery goroutine of its own, in the order the events reached
// it. Events reach it from the Publisher after their commit on the embedded store (one process), or from
// the Relay on Postgres, which hears every node's events, this node's included, on a LISTEN connection.
// Deliver never blocks the publisher: events wait in a queue the delivery goroutine drains. Listeners
// must not block (events.Listener); one that panics is logged and the others still get the event.

// MaxQueued bounds the events waiting for the delivery goroutine. Listeners that keep up never let it
// fill; when they do not, the oldest waiting event is dropped (and logged) rather than memory growing
// without bound or the publisher waiting.
const MaxQueued = 1 << 16

// Bus fans call events out to this node's listeners.
type Bus struct {
	log *slog.Logger

	mu        sync.Mutex
	listeners map[int]events.Listener
	order     []int // listener ids in subscription order
	next      int
	queue     []events.CallEvent
	dropped   int
	closed    bool

	wake chan struct{} // a token when the queue gained events
	done chan struct{} // closed when the delivery goroutine has ended
}

// NewBus starts a bus; Close stops it.
func NewBus(log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{log: log, listeners: map[int]events.Listener{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.run()
	return b
}

// Subscribe adds a listener; the function it answers removes it again.
func (b *Bus) Subscribe(l events.Listener) (unsubscribe func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.listeners[id] = l
	b.order = append(b.order, id)
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.listeners, id)
		for i, o := range b.order {
			if o == id {
				b.order = append(b.order[:i:i], b.order[i+1:]...)
				break
			}
		}
	}
}

// Deliver queues e for every listener; it never blocks. After Close it does nothing.
func (b *Bus) Deliver(e events.CallEvent) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= MaxQueued {
		b.queue = b.queue[1:]
		b.dropped++
	}
	b.queue = append(b.queue, e)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Close stops the bus once the events already queued have been handed out.
func (b *Bus) Close() {
	b.mu.Lock()
	already := b.closed
	b.closed = true
	b.mu.Unlock()
	if !already {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	<-b.done
}

func (b *Bus) run() {
	defer close(b.done)
	for {
		b.mu.Lock()
		batch, dropped, closed := b.queue, b.dropped, b.closed
		b.queue, b.dropped = nil, 0
		ls := make([]events.Listener, 0, len(b.order))
		for _, id := range b.order {
			ls = append(ls, b.listeners[id])
		}
		b.mu.Unlock()
		if dropped > 0 {
			b.log.Warn("call-event listeners fell behind: events dropped", "dropped", dropped)
		}
		for _, e := range batch {
			for _, l := range ls {
				b.call(l, e)
			}
		}
		if closed && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-b.wake
		}
	}
}

// call runs one listener, which must not take the bus down with it.
func (b *Bus) call(l events.Listener, e events.CallEvent) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("call-event listener panicked", "unique_id", e.UniqueID, "state", e.State, "panic", r)
		}
	}()
	l(e)
}
