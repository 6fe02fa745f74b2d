package telemetry

import (
	"testing"
	"time"
)

func TestReceiverLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint16
		ssrc []uint32 // per packet; nil: all 1
		want int64
	}{
		{"in order", []uint16{1, 2, 3, 4}, nil, 0},
		{"one gap", []uint16{1, 2, 4, 5}, nil, 1},
		{"reordered", []uint16{1, 3, 2, 4}, nil, 0},
		{"duplicate offsets nothing below zero", []uint16{1, 1, 2}, nil, 0},
		{"wrap", []uint16{65534, 65535, 0, 2}, nil, 1},
		{"late after wrap", []uint16{65535, 1, 0, 2}, nil, 0},
		{"sequence restart", []uint16{10, 12, 40000, 40001, 40003}, nil, 2},
		{"new ssrc keeps old losses", []uint16{1, 3, 100, 101}, []uint32{1, 1, 2, 2}, 1},
		{"lost at the end is not seen", []uint16{1, 2}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(8000)
			for i, s := range tc.seqs {
				ssrc := uint32(1)
				if tc.ssrc != nil {
					ssrc = tc.ssrc[i]
				}
				r.Packet(ssrc, s)
			}
			st := r.Stats()
			if st.Lost != tc.want {
				t.Errorf("lost = %d, want %d", st.Lost, tc.want)
			}
			if st.Received != int64(len(tc.seqs)) {
				t.Errorf("received = %d, want %d", st.Received, len(tc.seqs))
			}
		})
	}
}

func TestReceiverJitter(t *testing.T) {
	const frame = 20 * time.Millisecond
	t.Run("perfect pacing", func(t *testing.T) {
		r := NewReceiver(8000)
		for i := range 200 {
			r.Audio(uint32(1000+160*i), time.Duration(i)*frame+time.Hour)
		}
		if j := r.Stats().Jitter; j > 100*time.Microsecond {
			t.Errorf("jitter = %v, want ~0", j)
		}
	})
	t.Run("alternating 5 ms early and late", func(t *testing.T) {
		// |D| is 10 ms for every packet after the first, so J converges
		// to 10 ms (RFC 3550 A.8's estimator has gain 1/16).
		r := NewReceiver(8000)
		for i := range 400 {
			off := 5 * time.Millisecond
			if i%2 == 1 {
				off = -off
			}
			r.Audio(uint32(160*i)-5000, time.Duration(i)*frame+off)
		}
		st := r.Stats()
		if d := st.Jitter - 10*time.Millisecond; d < -200*time.Microsecond || d > 200*time.Microsecond {
			t.Errorf("jitter = %v, want ~10ms", st.Jitter)
		}
		if st.AudioPackets != 400 {
			t.Errorf("audio packets = %d", st.AudioPackets)
		}
	})
	t.Run("new ssrc does not count the timestamp jump", func(t *testing.T) {
		r := NewReceiver(8000)
		for i := range 50 {
			r.Packet(1, uint16(i))
			r.Audio(uint32(160*i), time.Duration(i)*frame)
		}
		r.Packet(2, 9999)
		r.Audio(123456789, 50*frame)
		r.Packet(2, 10000)
		r.Audio(123456789+160, 51*frame)
		if j := r.Stats().Jitter; j > time.Millisecond {
			t.Errorf("jitter = %v after a stream change", j)
		}
	})
}
