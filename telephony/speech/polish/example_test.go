package polish_test

import (
	"fmt"

	"hotline/telephony/speech/polish"
)

func ExampleAmount() {
	fmt.Println(polish.Amount(123456))
	fmt.Println(polish.Amount(12))
	// Output:
	// tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy
	// zero złotych dwanaście groszy
}

func ExampleForm() {
	for _, n := range []int64{1, 2, 5, 22} {
		fmt.Println(polish.CardinalFeminine(n), polish.Form(n, "rata", "raty", "rat"))
	}
	// Output:
	// jedna rata
	// dwie raty
	// pięć rat
	// dwadzieścia dwie raty
}

func ExampleDate() {
	fmt.Println(polish.Date(2026, 3, 15))
	fmt.Println("o", polish.Time(15, 5))
	// Output:
	// piętnastego marca dwa tysiące dwudziestego szóstego roku
	// o piętnastej zero pięć
}

func ExampleAccount() {
	fmt.Println(polish.Account("26 1010 1014 0000 0712 1981 2874"))
	// Output:
	// dwa sześć, jeden zero jeden zero, jeden zero jeden cztery, zero zero zero zero, zero siedem jeden dwa, jeden dziewięć osiem jeden, dwa osiem siedem cztery
}
