package sipgw

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"hotline/telephony/audio"
	"hotline/telephony/recording"
)

const (
	// DefaultRecordingRetention is how long recordings are kept.
	DefaultRecordingRetention = 30 * 24 * time.Hour
	// pruneEvery is how often the janitor deletes expired recordings.
	pruneEvery = time.Hour
	// recvLead and recvLag bound where received audio is recorded,
	// relative to our clock. The jitter buffer places packets by RTP
	// timestamp and re-anchors only when they stray a second from the
	// clock, so a remote sample clock that runs fast or slow (100 ppm is
	// 200 ms in half an hour) would drift the caller's channel away from
	// ours; past recording.Window one side would then be dropped as late.
	// Packets cannot come from the future (recvLead allows for a first
	// packet that came late and anchored the stream late), and later than
	// recvLag the bot did not hear them either (jitter.Delay): out there they
	// are recorded at the bound. The send side is at most playout.MaxLag
	// behind the clock, so the two channels stay within the Window.
	recvLead = 60 * time.Millisecond
	recvLag  = 120 * time.Millisecond
)

// RecordingConfig turns on call recording: every answered call (inbound
// and outbound) is written as a stereo WAV, caller (remote party) left,
// what we sent (bot, or the bridged consultant) right, both on one
// timeline from the answer; see telephony/recording. The consultant leg
// a bridge dials has no file of its own: it is in the caller's.
type RecordingConfig struct {
	// Dir is the recordings root ("" = recording off). Files go to
	// <Dir>/<YYYY>/<MM>/<DD>/<leg id>.wav (UTC date), mode 0600.
	Dir string
	// Retention is how long a recording is kept (default 30 days); older
	// ones are deleted at start and hourly while the server runs.
	Retention time.Duration
}

// callRecording is one call's recorder. The zero value records nothing;
// start begins a recording unless the call has already been torn down.
type callRecording struct {
	cur atomic.Pointer[activeRecording] // read by the media goroutines

	mu     sync.Mutex
	closed bool
	path   string
}

// activeRecording is a running recording; immutable once published.
type activeRecording struct {
	rec     *recording.Recorder
	started time.Time // ≈ the media epoch: t = 0 of the taps
}

// startRecording begins recording c's media, if configured. Call it just
// before the media session runs, so the file's zero is the answer. A
// failure is logged and the call goes on unrecorded.
func (s *Server) startRecording(c *call) {
	if s.cfg.Recording.Dir != "" {
		c.rec.start(s.cfg.Recording.Dir, c.info.ID, c.log)
	}
}

func (r *callRecording) start(dir, id string, log *slog.Logger) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.cur.Load() != nil {
		return // torn down while answering, or already recording
	}
	now := time.Now()
	path, err := recording.Path(dir, id, now)
	if err == nil {
		var rec *recording.Recorder
		if rec, err = recording.New(path, audio.Rate); err == nil {
			r.path = path
			r.cur.Store(&activeRecording{rec: rec, started: now})
			log.Debug("recording", "path", path)
			return
		}
	}
	log.Error("call not recorded", "error", err)
}

// left records audio received from the remote party (a media tap),
// kept within recvLead/recvLag of our clock.
func (r *callRecording) left(t time.Duration, pcm []int16) {
	if a := r.cur.Load(); a != nil {
		now := time.Since(a.started)
		a.rec.WriteLeft(min(max(t, now-recvLag), now+recvLead), pcm)
	}
}

// right records audio we sent (a media tap).
func (r *callRecording) right(t time.Duration, pcm []int16) {
	if a := r.cur.Load(); a != nil {
		a.rec.WriteRight(t, pcm)
	}
}

// close finishes the recording: the teardown calls it after the media
// stopped, so no tap writes any more. The file is extended to the hangup
// so that a quiet end of the call is kept as silence. Errors are logged,
// never returned: the call has ended either way.
func (r *callRecording) close(log *slog.Logger) {
	r.mu.Lock()
	r.closed = true
	a := r.cur.Swap(nil)
	r.mu.Unlock()
	if a == nil {
		return
	}
	rec := a.rec
	rec.Extend(time.Since(a.started))
	err := rec.Close()
	if st := rec.Stats(); st.Late > 0 || st.Lost > 0 {
		log.Warn("recording gaps", "late_samples", st.Late, "lost_samples", st.Lost)
	}
	if err != nil {
		log.Error("recording incomplete", "path", rec.Path(), "error", err)
	}
}

// filePath is the recording's file, "" if the call is not recorded.
func (r *callRecording) filePath() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path
}

// recordingTaps returns the media taps feeding c's recorder, or nils
// when recording is off (the media loops then skip the calls).
func (s *Server) recordingTaps(c *call) (in, out func(time.Duration, []int16)) {
	if s.cfg.Recording.Dir == "" {
		return nil, nil
	}
	return c.rec.left, c.rec.right
}

// pruneRecordings deletes expired recordings now and then every
// pruneEvery until ctx ends. Serve runs it on its own goroutine.
func (s *Server) pruneRecordings(ctx context.Context) {
	dir, keep := s.cfg.Recording.Dir, s.cfg.Recording.Retention
	if err := os.MkdirAll(dir, 0o700); err != nil {
		// Calls are still answered; each logs that it is not recorded.
		s.log.Error("recordings directory unusable", "error", err)
	}
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		start := time.Now()
		n, err := recording.Prune(dir, keep, start)
		if err != nil {
			s.log.Error("pruning recordings", "removed", n, "error", err)
		} else if n > 0 {
			s.log.Info("expired recordings deleted", "removed", n, "retention", keep,
				"took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
