package audio

// API to be implemented by the audio engineer (this file is replaced):
//
//	func EncodeUlaw(dst []byte, pcm []int16) []byte    // appends; 0 allocs when cap(dst) suffices
//	func DecodeUlaw(dst []int16, ulaw []byte) []int16
//	func EncodeAlaw(dst []byte, pcm []int16) []byte
//	func DecodeAlaw(dst []int16, alaw []byte) []int16
//	func UlawToLinear(b byte) int16; LinearToUlaw(s int16) byte (and A-law)
//
//	type Resampler struct{…}                          // polyphase windowed-sinc, anti-aliased
//	func NewResampler(inRate, outRate int) (*Resampler, error)
//	func (r *Resampler) Process(dst, src []int16) []int16 // streaming: appends to dst, keeps history
//	func (r *Resampler) Flush(dst []int16) []int16
//	func Resample(pcm []int16, inRate, outRate int) ([]int16, error) // one-shot
//
//	func ReadWAV(r io.ReadSeeker) (pcm []int16, rate int, err error)  // mono/stereo→mono, 16-bit PCM, µ-law/A-law WAV too; espeak --stdout header
//	func WriteWAV(w io.WriteSeeker, pcm []int16, rate, channels int) error
//	func Gain(pcm []int16, db float64)                 // in place, saturating
//	func Peak(pcm []int16) int16; RMS(pcm []int16) float64; DBFS(rms float64) float64
