package consultants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event types published on the events channel.
const (
	EventPresence       = "presence"        // User's State changed
	EventQueued         = "queued"          // a caller joined the queue
	EventOffer          = "offer"           // CallID rings at User; Popup is the screen-pop
	EventOfferCancelled = "offer_cancelled" // the offer to User was withdrawn (Outcome: missed, declined)
	EventConnected      = "connected"       // User answered CallID
	EventBack           = "back"            // User sent the caller back to the assistant
	EventHangup         = "hangup"          // User hung up
	EventEnded          = "ended"           // CallID's queue life is over (Outcome)
)

// Event is something that happened in the queue, published through Redis
// so every instance's consoles see it. Popup travels only with offers and
// is shown only to the consultant the offer is for.
type Event struct {
	Type    string    `json:"type"`
	CallID  string    `json:"call_id,omitempty"`
	User    string    `json:"user,omitempty"`
	State   State     `json:"state,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Popup   *Popup    `json:"popup,omitempty"`
	At      time.Time `json:"at"`
}

// publish sends ev to every instance (including this one, through Run).
func (s *Service) publish(ctx context.Context, ev Event) {
	ev.At = s.opt.Now().UTC()
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if err := s.rdb.Publish(context.WithoutCancel(ctx), s.prefix+keyEvents, b).Err(); err != nil {
		s.log.Warn("consultants: publishing an event failed", "type", ev.Type, "err", err)
	}
}

// subscriber is a local listener (one console socket).
type subscriber struct {
	c chan Event
}

// Subscribe returns a channel of the events every instance publishes,
// and a function to stop. Slow listeners lose events rather than block.
func (s *Service) Subscribe() (<-chan Event, func()) {
	sub := &subscriber{c: make(chan Event, 64)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub.c, func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}
}

// Ready is closed once Run receives events.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Run receives the events of every instance until ctx ends: it fans them
// out to local subscribers and carries out back/hang-up requests for the
// calls served here. It also takes the answers other instances relay for
// callers waiting here (relay.go); those requests carry SDP and are never
// fanned out to subscribers.
func (s *Service) Run(ctx context.Context) error {
	events, relay := s.prefix+keyEvents, s.prefix+keyRelay
	ps := s.rdb.Subscribe(ctx, events, relay)
	defer ps.Close()
	// One confirmation per channel: Ready means both are subscribed, so
	// a relayed answer published after it cannot be missed here.
	for range 2 {
		if _, err := ps.Receive(ctx); err != nil {
			return fmt.Errorf("consultants: subscribe: %w", err)
		}
	}
	defer s.relays.Wait() // relayed answers in flight reply before Run returns
	s.readyOnce.Do(func() { close(s.ready) })
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			if m.Channel == relay {
				s.relayed(ctx, m.Payload)
				continue
			}
			var ev Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				continue
			}
			if ev.Type == EventBack || ev.Type == EventHangup {
				s.control(ev)
			}
			s.mu.Lock()
			for sub := range s.subs {
				select {
				case sub.c <- ev:
				default:
				}
			}
			s.mu.Unlock()
		}
	}
}
