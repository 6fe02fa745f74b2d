package nlu

import (
	"strings"

	"hotline/dialogs"
)

// phraseDef is one keyword or phrase for an intent. Words are normalised
// (no diacritics); a trailing "*" matches any ending, which is how the
// rules cope with Polish inflection ("konsultant*" matches "konsultantem",
// "konsultantką"). A phrase scores 10 per word plus bonus, the best score
// wins, ties go to the intent earlier in intentPriority.
type phraseDef struct {
	intent dialogs.IntentKind
	bonus  int
	words  string
}

// Yes/no words are weak (bonus -5): any topical keyword in the same answer
// wins ("tak, połącz z konsultantem" is a transfer request). "nie wiem"
// maps to unknown only to stop its "nie" from counting as a no.
var phraseDefs = [...]phraseDef{
	// 1: debt, balance
	{dialogs.IntentDebt, 0, "saldo*"}, {dialogs.IntentDebt, 0, "saldzie"}, {dialogs.IntentDebt, 0, "zadluz*"},
	{dialogs.IntentDebt, 0, "dlug"}, {dialogs.IntentDebt, 0, "dlugu"}, {dialogs.IntentDebt, 0, "dlugi"},
	{dialogs.IntentDebt, 0, "dlugow"}, {dialogs.IntentDebt, 0, "dlugiem"}, {dialogs.IntentDebt, 0, "dlugach"},
	{dialogs.IntentDebt, 0, "winien"}, {dialogs.IntentDebt, 0, "winna"}, {dialogs.IntentDebt, 0, "winny"},
	{dialogs.IntentDebt, 0, "winienem"}, {dialogs.IntentDebt, 0, "dluzn*"}, {dialogs.IntentDebt, 0, "naleznos*"},
	{dialogs.IntentDebt, 0, "odset*"}, {dialogs.IntentDebt, 0, "kapital*"}, {dialogs.IntentDebt, 0, "wierzyciel*"},
	{dialogs.IntentDebt, 0, "koszt*"}, {dialogs.IntentDebt, 0, "kwota do zaplaty"}, {dialogs.IntentDebt, 0, "do zaplaty"},
	{dialogs.IntentDebt, 0, "do splaty"}, {dialogs.IntentDebt, 0, "ile mam zaplacic"}, {dialogs.IntentDebt, 0, "ile musze zaplacic"},
	{dialogs.IntentDebt, 0, "ile trzeba zaplacic"}, {dialogs.IntentDebt, 0, "ile zaplacic"}, {dialogs.IntentDebt, 0, "stan sprawy"},
	{dialogs.IntentDebt, 0, "stan konta"}, {dialogs.IntentDebt, 0, "ile wynosi zadluz*"},
	// 2: payments, bank account, instalments
	{dialogs.IntentPayments, 0, "platnos*"}, {dialogs.IntentPayments, 0, "wplat*"}, {dialogs.IntentPayments, 0, "wplac*"},
	{dialogs.IntentPayments, 0, "numer konta"}, {dialogs.IntentPayments, 0, "numer rachunku"}, {dialogs.IntentPayments, 0, "konto"},
	{dialogs.IntentPayments, 0, "konta"}, {dialogs.IntentPayments, 0, "koncie"}, {dialogs.IntentPayments, 0, "rachun*"},
	{dialogs.IntentPayments, 0, "rata"}, {dialogs.IntentPayments, 0, "raty"}, {dialogs.IntentPayments, 0, "rate"},
	{dialogs.IntentPayments, 0, "racie"}, {dialogs.IntentPayments, 0, "rat"}, {dialogs.IntentPayments, 0, "ratami"},
	{dialogs.IntentPayments, 0, "ratach"}, {dialogs.IntentPayments, 0, "ratal*"}, {dialogs.IntentPayments, 0, "kiedy rata"},
	{dialogs.IntentPayments, 0, "nastepna rata"}, {dialogs.IntentPayments, 0, "harmonogram*"}, {dialogs.IntentPayments, 0, "przelew*"},
	{dialogs.IntentPayments, 0, "splat*"}, {dialogs.IntentPayments, 0, "splac*"}, {dialogs.IntentPayments, 0, "jak zaplacic"}, {dialogs.IntentPayments, 0, "gdzie zaplacic"},
	{dialogs.IntentPayments, 0, "gdzie placic"}, {dialogs.IntentPayments, 0, "zaplac*"}, {dialogs.IntentPayments, 0, "zaplacon*"},
	// 3: callback
	{dialogs.IntentCallback, 0, "oddzwon*"}, {dialogs.IntentCallback, 0, "zadzwon*"}, {dialogs.IntentCallback, 0, "telefon zwrotny"},
	{dialogs.IntentCallback, 0, "zwrotny telefon"}, {dialogs.IntentCallback, 0, "prosze o kontakt"}, {dialogs.IntentCallback, 0, "prosze o telefon"},
	{dialogs.IntentCallback, 0, "kontakt telefoniczny"}, {dialogs.IntentCallback, 0, "kontakt ze mna"}, {dialogs.IntentCallback, 0, "skontaktuj*"},
	{dialogs.IntentCallback, 0, "umowic*"}, {dialogs.IntentCallback, 0, "umowienie"}, {dialogs.IntentCallback, 0, "callback"},
	// 0: consultant
	{dialogs.IntentConsultant, 0, "konsultant*"}, {dialogs.IntentConsultant, 0, "czlowiek*"}, {dialogs.IntentConsultant, 0, "pracownik*"},
	{dialogs.IntentConsultant, 0, "doradc*"}, {dialogs.IntentConsultant, 0, "operator*"}, {dialogs.IntentConsultant, 0, "polacz*"},
	{dialogs.IntentConsultant, 0, "przelacz*"}, {dialogs.IntentConsultant, 0, "z kims"}, {dialogs.IntentConsultant, 0, "zywa osoba"},
	{dialogs.IntentConsultant, 0, "zywym"}, {dialogs.IntentConsultant, 0, "agent*"}, {dialogs.IntentConsultant, 0, "porozmawia*"},
	{dialogs.IntentConsultant, 0, "rozmawiac z"},
	// 4: complaints and contact information
	{dialogs.IntentComplaints, 0, "reklamac*"}, {dialogs.IntentComplaints, 0, "skarg*"}, {dialogs.IntentComplaints, 0, "kontakt*"},
	{dialogs.IntentComplaints, 0, "adres*"}, {dialogs.IntentComplaints, 0, "zazalen*"}, {dialogs.IntentComplaints, 0, "odwolan*"},
	{dialogs.IntentComplaints, 0, "sprzeciw*"}, {dialogs.IntentComplaints, 0, "mail*"}, {dialogs.IntentComplaints, 0, "email*"},
	{dialogs.IntentComplaints, 0, "poczt*"}, {dialogs.IntentComplaints, 0, "siedzib*"},
	// 9: repeat
	{dialogs.IntentRepeat, 0, "powtor*"}, {dialogs.IntentRepeat, 0, "jeszcze raz"}, {dialogs.IntentRepeat, 0, "nie zrozumial*"},
	{dialogs.IntentRepeat, 0, "nie rozumiem"}, {dialogs.IntentRepeat, 0, "nie doslysz*"}, {dialogs.IntentRepeat, 0, "nie uslysz*"},
	{dialogs.IntentRepeat, 0, "nie slysz*"}, {dialogs.IntentRepeat, 0, "slucham"}, {dialogs.IntentRepeat, 0, "co prosze"},
	// goodbye
	{dialogs.IntentGoodbye, 0, "do widzenia"}, {dialogs.IntentGoodbye, 0, "dowidzenia"}, {dialogs.IntentGoodbye, 0, "do uslyszenia"},
	{dialogs.IntentGoodbye, 0, "to wszystko"}, {dialogs.IntentGoodbye, 0, "juz wszystko"}, {dialogs.IntentGoodbye, 0, "koniec"},
	{dialogs.IntentGoodbye, 0, "zakoncz*"}, {dialogs.IntentGoodbye, 0, "rozlacz*"}, {dialogs.IntentGoodbye, 0, "zegnam"},
	{dialogs.IntentGoodbye, 0, "na razie"}, {dialogs.IntentGoodbye, 0, "nic wiecej"}, {dialogs.IntentGoodbye, 0, "zadzwonie pozniej"},
	{dialogs.IntentGoodbye, -7, "dziekuje"}, {dialogs.IntentGoodbye, -7, "dziekuje bardzo"}, {dialogs.IntentGoodbye, -7, "dzieki"},
	// yes
	{dialogs.IntentYes, -5, "tak"}, {dialogs.IntentYes, -5, "zgadza sie"}, {dialogs.IntentYes, -5, "zgadzam sie"},
	{dialogs.IntentYes, -5, "oczywiscie"}, {dialogs.IntentYes, -5, "dokladnie"}, {dialogs.IntentYes, -5, "zgoda"},
	{dialogs.IntentYes, -5, "jasne"}, {dialogs.IntentYes, -5, "owszem"}, {dialogs.IntentYes, -5, "potwierdzam"},
	{dialogs.IntentYes, -5, "dobrze"}, {dialogs.IntentYes, -5, "ok"}, {dialogs.IntentYes, -5, "okej"},
	{dialogs.IntentYes, -5, "okay"}, {dialogs.IntentYes, -5, "pewnie"}, {dialogs.IntentYes, -5, "poprosze"},
	{dialogs.IntentYes, -5, "to prawda"}, {dialogs.IntentYes, -5, "tak jest"}, {dialogs.IntentYes, -5, "to ja"},
	// no
	{dialogs.IntentNo, -5, "nie"}, {dialogs.IntentNo, -5, "nie zgadzam sie"}, {dialogs.IntentNo, -5, "nie zgadza sie"},
	{dialogs.IntentNo, -5, "niestety"}, {dialogs.IntentNo, -5, "nieprawda"}, {dialogs.IntentNo, -5, "pomylka"},
	{dialogs.IntentNo, -5, "to nie ja"}, {dialogs.IntentNo, -5, "absolutnie nie"}, {dialogs.IntentNo, -5, "w zadnym wypadku"},
	{dialogs.IntentNo, -5, "nie prawda"}, {dialogs.IntentNo, -5, "nie to nie ja"},
	// not an answer: keeps "nie" in "nie wiem" from counting as a no
	{dialogs.IntentUnknown, -11, "nie wiem"}, {dialogs.IntentUnknown, -11, "nie pamietam"},
}

// intentPriority breaks score ties: the more specific request first.
var intentPriority = [...]dialogs.IntentKind{
	dialogs.IntentRepeat, dialogs.IntentCallback, dialogs.IntentConsultant, dialogs.IntentComplaints,
	dialogs.IntentPayments, dialogs.IntentDebt, dialogs.IntentGoodbye, dialogs.IntentNo, dialogs.IntentYes,
	dialogs.IntentUnknown,
}

// compiledPhrase is a phraseDef split into words.
type compiledPhrase struct {
	intent dialogs.IntentKind
	score  int
	rank   int // index in intentPriority, lower wins ties
	words  []string
	prefix []bool
}

// phraseIndex finds candidate phrases by their first word: exact words in
// byExact, "stem*" words in byStem; stemLens lists the stem lengths to try.
type phraseIndex struct {
	phrases  []compiledPhrase
	byExact  map[string][]int
	byStem   map[string][]int
	stemLens []int
}

var phrases = buildPhraseIndex()

func buildPhraseIndex() *phraseIndex {
	ix := &phraseIndex{byExact: map[string][]int{}, byStem: map[string][]int{}}
	rank := func(k dialogs.IntentKind) int {
		for i, p := range intentPriority {
			if p == k {
				return i
			}
		}
		panic("nlu: intent missing from intentPriority: " + string(k))
	}
	seenLen := map[int]bool{}
	for _, d := range phraseDefs {
		ws := strings.Fields(d.words)
		cp := compiledPhrase{intent: d.intent, score: 10*len(ws) + d.bonus, rank: rank(d.intent)}
		for _, w := range ws {
			stem, isPrefix := strings.CutSuffix(w, "*")
			cp.words = append(cp.words, stem)
			cp.prefix = append(cp.prefix, isPrefix)
		}
		n := len(ix.phrases)
		ix.phrases = append(ix.phrases, cp)
		if cp.prefix[0] {
			ix.byStem[cp.words[0]] = append(ix.byStem[cp.words[0]], n)
			if !seenLen[len(cp.words[0])] {
				seenLen[len(cp.words[0])] = true
				ix.stemLens = append(ix.stemLens, len(cp.words[0]))
			}
		} else {
			ix.byExact[cp.words[0]] = append(ix.byExact[cp.words[0]], n)
		}
	}
	return ix
}

// matchAt reports whether phrase p matches toks starting at i.
func (p *compiledPhrase) matchAt(toks []token, i int) bool {
	if i+len(p.words) > len(toks) {
		return false
	}
	for k, w := range p.words {
		s := toks[i+k].s
		if p.prefix[k] {
			if !strings.HasPrefix(s, w) {
				return false
			}
		} else if s != w {
			return false
		}
	}
	return true
}

// phraseHit is the best phrase found in a transcript.
type phraseHit struct {
	intent dialogs.IntentKind
	score  int
}

// strong reports a topical keyword or phrase (not a bare yes/no or thanks).
func (h phraseHit) strong() bool { return h.score >= 10 && h.intent != dialogs.IntentUnknown }

// bestPhrase scores every phrase occurring in toks and returns the winner
// (zero phraseHit when none matched).
func (ix *phraseIndex) bestPhrase(toks []token) phraseHit {
	best, bestRank := phraseHit{}, len(intentPriority)
	consider := func(cands []int, i int) {
		for _, n := range cands {
			p := &ix.phrases[n]
			if p.score < best.score || (p.score == best.score && p.rank >= bestRank) {
				continue
			}
			if p.matchAt(toks, i) {
				best, bestRank = phraseHit{intent: p.intent, score: p.score}, p.rank
			}
		}
	}
	for i := range toks {
		s := toks[i].s
		if toks[i].num {
			continue
		}
		consider(ix.byExact[s], i)
		for _, l := range ix.stemLens {
			if l <= len(s) {
				consider(ix.byStem[s[:l]], i)
			}
		}
	}
	return best
}
