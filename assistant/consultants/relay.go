package consultants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Answering across instances. A consultant's console may talk to any
// instance (behind a load balancer), but the caller's media is held by
// the one instance whose Wait is blocked for them: their SIP or WebRTC
// leg lives in that process and cannot be bridged from another one. The
// signalling can, though: the console's instance relays the browser's
// SDP offer through Redis to the caller's instance, which negotiates the
// consultant's leg there and sends back its SDP answer, so the media then
// flows directly between the browser and the caller's instance.
//
// The relayed answer is not trickled: the caller's instance answers with
// its candidates complete, and the browser's (trickled nowhere) reach it
// as peer-reflexive candidates through ICE connectivity checks. Trickling
// them would need a second relayed socket for candidates only.

// Errors of a relayed answer (and of the local answer path that serves
// it), which callers map to HTTP answers.
var (
	// ErrNotWaiting: the caller left (or was connected to someone else)
	// before the consultant's leg could be handed to them.
	ErrNotWaiting = errors.New("consultants: the caller is no longer waiting")
	// ErrOfferRefused: the consultant's browser offer could not be
	// negotiated.
	ErrOfferRefused = errors.New("consultants: the browser's offer was refused")
	// ErrUnavailable: the caller's instance could not answer (its queue
	// or its WebRTC gateway is unavailable).
	ErrUnavailable = errors.New("consultants: the caller's instance cannot answer now")
	// ErrNoInstance: no instance holding the caller replied in time (the
	// call ended, or its instance is gone or busy).
	ErrNoInstance = errors.New("consultants: no instance answered for the call in time")
)

// AnswerHandler answers, on this instance, a call whose caller waits
// here: the same steps as a consultant answering through this
// instance's own console (Answer, accepting the browser's leg without
// trickle, Connect). It returns the complete SDP answer, or an error
// wrapping ErrNotOffered, ErrNotWaiting, ErrOfferRefused or
// ErrUnavailable. ctx carries the deadline of the relay.
type AnswerHandler func(ctx context.Context, callID, user, offerSDP string) (answerSDP string, err error)

// answerRequest travels on the relay channel to every instance; only the
// one where the caller waits acts on it.
type answerRequest struct {
	ID        string `json:"id"` // names the reply key
	CallID    string `json:"call_id"`
	User      string `json:"user"`
	SDP       string `json:"sdp"`
	TimeoutMS int64  `json:"timeout_ms"` // how long the asking instance waits
}

// answerReply is pushed to the request's reply key.
type answerReply struct {
	SDP   string `json:"sdp,omitempty"`
	Error string `json:"error,omitempty"` // one of the reply kinds below
}

// Reply kinds of a failed relayed answer.
const (
	replyNotOffered   = "not_offered"
	replyNotWaiting   = "not_waiting"
	replyOfferRefused = "offer_refused"
	replyUnavailable  = "unavailable"
)

var replyErrors = map[string]error{
	replyNotOffered:   ErrNotOffered,
	replyNotWaiting:   ErrNotWaiting,
	replyOfferRefused: ErrOfferRefused,
	replyUnavailable:  ErrUnavailable,
}

// replyKind names err for the asking instance.
func replyKind(err error) string {
	switch {
	case errors.Is(err, ErrNotOffered):
		return replyNotOffered
	case errors.Is(err, ErrNotWaiting), errors.Is(err, ErrElsewhere):
		// ErrElsewhere here: the waiter went between the request's arrival
		// and Connect: the caller is no longer waiting on this instance.
		return replyNotWaiting
	case errors.Is(err, ErrOfferRefused):
		return replyOfferRefused
	}
	return replyUnavailable
}

// handlerMargin is the part of the asking instance's wait the answering
// instance keeps for its reply to travel back: a leg negotiated after the
// asker gave up would be connected to the caller with no browser at its
// other end.
const handlerMargin = 5 // the handler gets (1 - 1/handlerMargin) of the wait

// replyTTL bounds how long an unread reply (its asker gave up) lingers.
const replyTTL = 30 * time.Second

func (s *Service) replyKey(id string) string { return s.prefix + keyAnswer + id }

// HandleAnswers makes h the handler of answers relayed to this instance
// for callers waiting here (the console registers its local answer
// path). Without a handler, relayed answers are not taken here, and the
// asking instance times out.
func (s *Service) HandleAnswers(h AnswerHandler) {
	s.mu.Lock()
	s.answer = h
	s.mu.Unlock()
}

// RelayAnswer asks the instance where call id's caller waits to answer it
// for user with the browser's offerSDP (after Answer here returned
// ErrElsewhere), and waits up to timeout (at least 1 s: BLPOP's
// resolution) for its SDP answer. Its errors wrap ErrNotOffered,
// ErrNotWaiting, ErrOfferRefused, ErrUnavailable, or ErrNoInstance when
// no instance replied in time.
func (s *Service) RelayAnswer(ctx context.Context, id, user, offerSDP string, timeout time.Duration) (string, error) {
	timeout = max(timeout, time.Second)
	var b [16]byte
	_, _ = rand.Read(b[:])
	req := answerRequest{ID: hex.EncodeToString(b[:]), CallID: id, User: user, SDP: offerSDP, TimeoutMS: timeout.Milliseconds()}
	msg, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("consultants: relay answer: %w", err)
	}
	// Every instance gets the request (pub/sub); the reply comes on a
	// list of this request's own, so it waits for us even if it is
	// pushed before we block on it.
	if err := s.rdb.Publish(ctx, s.prefix+keyRelay, msg).Err(); err != nil {
		return "", fmt.Errorf("%w: relay answer: %w", ErrUnavailable, err)
	}
	res, err := s.rdb.BLPop(ctx, timeout, s.replyKey(req.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoInstance
	}
	if err != nil {
		return "", fmt.Errorf("%w: relay answer: %w", ErrUnavailable, err)
	}
	var rep answerReply
	if len(res) != 2 || json.Unmarshal([]byte(res[1]), &rep) != nil {
		return "", fmt.Errorf("%w: relay answer: a malformed reply", ErrUnavailable)
	}
	if rep.Error != "" {
		if e, ok := replyErrors[rep.Error]; ok {
			return "", e
		}
		return "", fmt.Errorf("%w: relay answer: %s", ErrUnavailable, rep.Error)
	}
	if rep.SDP == "" {
		return "", fmt.Errorf("%w: relay answer: an empty reply", ErrUnavailable)
	}
	return rep.SDP, nil
}

// relayed acts on a request from the relay channel (Run): if the caller
// waits here and a handler is registered, the handler runs in its own
// goroutine (Run's loop must keep receiving) and its outcome is pushed to
// the request's reply key.
func (s *Service) relayed(ctx context.Context, payload string) {
	var req answerRequest
	if err := json.Unmarshal([]byte(payload), &req); err != nil || req.ID == "" || req.CallID == "" {
		return
	}
	s.mu.Lock()
	_, here := s.waiters[req.CallID]
	h := s.answer
	s.mu.Unlock()
	if !here || h == nil {
		return // another instance's caller (or nobody's: the asker times out)
	}
	wait := time.Duration(req.TimeoutMS) * time.Millisecond
	if wait <= 0 {
		wait = 15 * time.Second
	}
	budget := wait - wait/handlerMargin
	s.relays.Go(func() {
		hctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		sdp, err := h(hctx, req.CallID, req.User, req.SDP)
		rep := answerReply{SDP: sdp}
		if err != nil {
			rep = answerReply{Error: replyKind(err)}
			s.log.Info("consultants: relayed answer failed", "call_id", req.CallID, "err", err)
		} else {
			s.log.Info("consultants: answered a call relayed from another instance", "call_id", req.CallID)
		}
		s.reply(req.ID, rep, wait)
	})
}

// reply pushes rep for the asker; it expires if nobody reads it.
func (s *Service) reply(id string, rep answerReply, wait time.Duration) {
	b, err := json.Marshal(rep)
	if err != nil {
		return
	}
	// Not Run's context: a reply due while this instance stops still
	// tells the asker how its answer ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := s.replyKey(id)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, b)
		p.Expire(ctx, key, max(replyTTL, 2*wait))
		return nil
	})
	if err != nil {
		s.log.Warn("consultants: replying to a relayed answer failed", "err", err)
	}
}
