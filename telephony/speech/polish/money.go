package polish

// Amount returns a sum of money given in grosze (1 złoty = 100 groszy) in
// words: Amount(123456) = "tysiąc dwieście trzydzieści cztery złote
// pięćdziesiąt sześć groszy". The grosze part is dropped when it is zero
// ("sto złotych"); a sum under one złoty still names the złote ("zero
// złotych dwanaście groszy") so the caller hears the unit of the whole sum.
// Negative sums (an overpayment) start with "minus".
func Amount(grosze int64) string {
	var w words
	if grosze < 0 {
		w.add("minus")
	}
	g := abs(grosze)
	zl, gr := g/100, g%100
	w.unsigned(zl, masculine)
	w.add(form(zl, "złoty", "złote", "złotych"))
	if gr != 0 {
		w.unsigned(gr, masculine)
		w.add(form(gr, "grosz", "grosze", "groszy"))
	}
	return w.String()
}
