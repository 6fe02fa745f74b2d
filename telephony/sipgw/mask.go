package sipgw

import "strings"

// keepDigits is how much of a phone number or SIP user survives masking:
// enough to tell calls apart in logs, too little to identify a debtor.
const keepDigits = 3

// mask hides all but the last keepDigits characters of a SIP user part
// (a phone number, usually): "+48123456789" → "*********789".
func mask(user string) string {
	if len(user) <= keepDigits {
		return strings.Repeat("*", len(user))
	}
	return strings.Repeat("*", len(user)-keepDigits) + user[len(user)-keepDigits:]
}
