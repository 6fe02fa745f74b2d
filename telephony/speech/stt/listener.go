package stt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hotline/telephony/vad"
)

// Listener defaults.
const (
	DefaultEndSilence   = 700 * time.Millisecond
	DefaultMaxUtterance = 15 * time.Second
	DefaultMinSpeech    = 150 * time.Millisecond
	DefaultPreRoll      = 200 * time.Millisecond
	DefaultTail         = 200 * time.Millisecond
	DefaultQueue        = 4
	// eventBuffer: events wait here for the consumer. Feed never blocks on
	// it (it runs in the media loop); if the consumer stalls this long,
	// SpeechStart/SpeechEnd events are dropped and logged.
	eventBuffer = 32
)

// ErrBusy is reported (as an Error event) when an utterance is dropped
// because earlier ones are still waiting for the server.
var ErrBusy = errors.New("stt: transcription queue full, utterance dropped")

// EventKind says what a Listener Event reports.
type EventKind uint8

// Event kinds, in the order an utterance produces them.
const (
	EventUnknown EventKind = iota
	// EventSpeechStart: the caller started talking (use it for barge-in).
	EventSpeechStart
	// EventSpeechEnd: the caller stopped for EndSilence (or hit
	// MaxUtterance). A Transcript or an Error for the same Utterance follows,
	// unless the utterance was shorter than MinSpeech (a click, a cough).
	EventSpeechEnd
	// EventTranscript: the text of Utterance, possibly empty.
	EventTranscript
	// EventError: transcribing Utterance failed; Err says why.
	EventError
)

var kindNames = [...]string{"unknown", "speech-start", "speech-end", "transcript", "error"}

// String returns the kind's name.
func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one thing the Listener heard.
type Event struct {
	Kind EventKind
	// Utterance numbers the utterances of this Listener from 1, so a late
	// Transcript can be matched to its SpeechEnd.
	Utterance int
	// Text is the transcript (EventTranscript only).
	Text string
	// Audio is the length of the audio sent for transcription (SpeechEnd,
	// Transcript, Error).
	Audio time.Duration
	// Err is set for EventError.
	Err error
}

// ListenerConfig configures a Listener. Zero durations take the defaults.
type ListenerConfig struct {
	// Transcriber is required (a *Client in production).
	Transcriber Transcriber
	// SampleRate of the frames fed; default 8000.
	SampleRate int
	// VAD tunes voice detection; its Hangover is replaced by EndSilence.
	VAD vad.Config
	// EndSilence ends an utterance (default 700 ms).
	EndSilence time.Duration
	// MaxUtterance cuts a long monologue into pieces of at most this long (default 15 s).
	MaxUtterance time.Duration
	// MinSpeech: utterances with less voiced audio are not transcribed
	// (default 150 ms); whisper tends to invent words for clicks and coughs.
	MinSpeech time.Duration
	// PreRoll is audio kept from before the VAD fired, so that the first
	// consonant is not clipped (default 200 ms).
	PreRoll time.Duration
	// Tail is audio kept after the last voiced frame (default 200 ms).
	Tail time.Duration
	// Queue is how many utterances may wait for the server (default 4).
	Queue int
	// Logger; nil discards. Transcripts are never logged (they may hold
	// personal data).
	Logger *slog.Logger
}

func (c ListenerConfig) withDefaults() ListenerConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.EndSilence, DefaultEndSilence)
	def(&c.MaxUtterance, DefaultMaxUtterance)
	def(&c.MinSpeech, DefaultMinSpeech)
	def(&c.PreRoll, DefaultPreRoll)
	def(&c.Tail, DefaultTail)
	if c.SampleRate <= 0 {
		c.SampleRate = 8000
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.VAD.SampleRate = c.SampleRate
	c.VAD.Hangover = c.EndSilence
	return c
}

type job struct {
	id  int
	pcm []int16
}

// Listener turns a call's inbound audio into utterances and transcripts.
// Feed it every 20 ms frame from the media loop; read Events; Close it when
// the call ends. Feed and Close may be called from different goroutines.
type Listener struct {
	cfg    ListenerConfig
	events chan Event
	jobs   chan job
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex // guards everything below, and closing jobs/events
	closed     bool
	vad        *vad.Detector
	pre        []int16 // pre-roll: the last PreRoll of audio before speech
	utt        []int16 // the utterance being collected
	inUtt      bool
	voiced     time.Duration // voiced audio in utt
	lastVoiced int           // len(utt) after its last voiced frame
	n          int           // utterances started
}

// NewListener starts a Listener; its worker stops when ctx is done or
// Close is called.
func NewListener(ctx context.Context, cfg ListenerConfig) (*Listener, error) {
	if cfg.Transcriber == nil {
		return nil, errors.New("stt: ListenerConfig.Transcriber is nil")
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	l := &Listener{
		cfg:    cfg,
		events: make(chan Event, eventBuffer),
		jobs:   make(chan job, cfg.Queue),
		cancel: cancel,
		vad:    vad.New(cfg.VAD),
	}
	l.wg.Add(1)
	go l.work(ctx)
	return l, nil
}

// Events delivers what the Listener heard. It is closed by Close.
func (l *Listener) Events() <-chan Event { return l.events }

// Close stops the Listener: an utterance in progress is discarded, a
// transcription in flight is cancelled, and Close returns once the worker
// has exited and Events is closed. It is safe to call more than once.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.jobs)
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	close(l.events)
	return nil
}

// Feed processes one frame of audio (copied; the caller may reuse it). It
// never blocks on the consumer or the server. After Close it does nothing.
func (l *Listener) Feed(frame []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || len(frame) == 0 {
		return
	}
	state := l.vad.Process(frame)
	if !l.inUtt {
		if state != vad.SpeechStart {
			l.keepPreRoll(frame)
			return
		}
		l.n++
		l.inUtt = true
		l.utt = append(append(l.utt[:0], l.pre...), frame...)
		l.pre = l.pre[:0]
		// The onset frames before this one were voiced too.
		l.voiced = time.Duration(l.vad.Config().OnsetFrames) * l.duration(len(frame))
		l.lastVoiced = len(l.utt)
		l.emit(Event{Kind: EventSpeechStart, Utterance: l.n})
		return
	}
	l.utt = append(l.utt, frame...)
	if l.vad.Voiced() {
		l.voiced += l.duration(len(frame))
		l.lastVoiced = len(l.utt)
	}
	switch {
	case state == vad.SpeechEnd:
		l.finish(min(len(l.utt), l.lastVoiced+l.samples(l.cfg.Tail)))
		l.inUtt = false
	case l.duration(len(l.utt)) >= l.cfg.MaxUtterance:
		// Still talking: send what we have and go on collecting, as the
		// same spurt (no new SpeechStart) but a new utterance number.
		l.finish(len(l.utt))
		l.n++
		l.utt, l.voiced, l.lastVoiced = l.utt[:0], 0, 0
	}
}

// keepPreRoll remembers the last PreRoll of audio.
func (l *Listener) keepPreRoll(frame []int16) {
	limit := l.samples(l.cfg.PreRoll)
	l.pre = append(l.pre, frame...)
	if over := len(l.pre) - limit; over > 0 {
		l.pre = l.pre[:copy(l.pre, l.pre[over:])]
	}
}

// finish ends the current utterance at utt[:n] and queues it.
func (l *Listener) finish(n int) {
	id, pcm := l.n, l.utt[:n]
	length := l.duration(len(pcm))
	l.emit(Event{Kind: EventSpeechEnd, Utterance: id, Audio: length})
	if l.voiced < l.cfg.MinSpeech {
		l.cfg.Logger.Debug("stt: utterance too short, not transcribed", "utterance", id, "voiced", l.voiced)
		return
	}
	// The worker gets its own copy; utt is reused for the next utterance.
	select {
	case l.jobs <- job{id: id, pcm: append([]int16(nil), pcm...)}:
	default:
		l.cfg.Logger.Warn("stt: transcription queue full, utterance dropped", "utterance", id)
		l.emit(Event{Kind: EventError, Utterance: id, Audio: length, Err: ErrBusy})
	}
}

// emit queues an event without blocking (Feed runs in the media loop).
func (l *Listener) emit(ev Event) {
	select {
	case l.events <- ev:
	default:
		l.cfg.Logger.Warn("stt: event consumer stalled, event dropped", "kind", ev.Kind.String(), "utterance", ev.Utterance)
	}
}

// work transcribes queued utterances in order until jobs is closed or ctx ends.
func (l *Listener) work(ctx context.Context) {
	defer l.wg.Done()
	for {
		var j job
		var ok bool
		select {
		case <-ctx.Done():
			return
		case j, ok = <-l.jobs:
			if !ok {
				return
			}
		}
		start := time.Now()
		text, err := l.cfg.Transcriber.Transcribe(ctx, j.pcm, l.cfg.SampleRate)
		ev := Event{Kind: EventTranscript, Utterance: j.id, Text: text, Audio: l.duration(len(j.pcm))}
		if err != nil {
			if ctx.Err() != nil {
				return // closing: nobody is listening
			}
			ev = Event{Kind: EventError, Utterance: j.id, Audio: ev.Audio, Err: fmt.Errorf("stt: utterance %d: %w", j.id, err)}
			l.cfg.Logger.Warn("stt: transcription failed", "utterance", j.id, "err", err)
		} else {
			l.cfg.Logger.Debug("stt: transcribed", "utterance", j.id, "audio", ev.Audio, "took", time.Since(start), "chars", len(text))
		}
		select {
		case l.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

func (l *Listener) duration(samples int) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(l.cfg.SampleRate)
}

func (l *Listener) samples(d time.Duration) int {
	return int(d * time.Duration(l.cfg.SampleRate) / time.Second)
}
