#!/usr/bin/env bash
# The main job until the daemon exists: one RPO cycle on generated numbers,
# on the embedded store in $DATA_DIR (./var), printing each step.
set -euo pipefail
TACET=${TACET:-build/tools/tacet/tacet}
DATA_DIR=${DATA_DIR:-./var}
t() { echo "\$ tacet $*"; "$TACET" --data-dir "$DATA_DIR" "$@"; echo; }

work="$DATA_DIR/demo"
(umask 077 && mkdir -p "$work")  # the data directory is its owner's alone
[ -e "$DATA_DIR/ledger/CURRENT" ] || t init

# 12 candidate numbers in mixed formats, new on every run, plus one duplicate,
# one invalid value and one foreign number.
base=$(( $(date +%s) % 9000000 + 1000000 ))
cand="$work/candidates-$base.txt"
{
  for i in 0 1 2 3 4 5; do echo "06 $(( base + i ))"; done
  for i in 6 7 8 9 10 11; do echo "+39 347 $(( base + i ))"; done
  echo "06 $base"
  echo "not-a-number"
  echo "+44 20 7946 0958"
} > "$cand"
echo "== 1. select the numbers to check and write the upload file"
out=$("$TACET" --data-dir "$DATA_DIR" export --registry it-rpo --candidates "$cand")
echo "\$ tacet export --registry it-rpo --candidates $cand"
echo "$out"; echo
session=$(echo "$out" | sed -n 's/^session \([0-9]*\): .*/\1/p' | head -1)
txt=$(echo "$out" | sed -n 's/^session [0-9]*: \(.*\.txt\) (.*/\1/p' | head -1)

echo "== 2. the registry answers: every third number is filtered out (registered)"
ret="$work/return-$base.txt"
awk 'NR % 3 != 0' "$txt" > "$ret"
echo "(simulated return: $(wc -l < "$ret") of $(wc -l < "$txt") numbers came back)"; echo
today=$(TZ=Europe/Rome date +%F)
echo "== 3. import the return for session $session, received today"
t import-return --session "$session" --received "$today" "$ret"
echo "== 4. the same return again is refused, and the ledger is unchanged"
"$TACET" --data-dir "$DATA_DIR" import-return --session "$session" --received "$today" "$ret" || true; echo

first=$(sed -n 1p "$txt" | tr -d '\r'); third=$(sed -n 3p "$txt" | tr -d '\r')
echo "== 5. may we call?"
t check "$first"
t check "$third"
t check "$first" --at "$(TZ=Europe/Rome date -d '+15 days' +%F) 23:59"
t check "$first" --at "$(TZ=Europe/Rome date -d '+16 days' +%F) 00:00"
t check "06 5550 1234"
second=$(sed -n 2p "$txt" | tr -d '\r')
mail="cliente$base@example.it"
echo "== 6. consent, the do-not-call list, justifications (policy from config/tacet.toml)"
t policy
t consent grant "$mail" --type newsletter --given "$today" --evidence "web form v3"
t check "$mail" --channel newsletter
t check "$mail" --channel email
t justify "$mail" --channel email --reason callback-requested --operator op7
t check "$mail" --channel email
t block "$second" --reason "asked not to be called" --source call_outcome
t check "$second"
printf '%s\n%s\n%s\n' "$mail" "other$base@example.it" "not-an-address" > "$work/list-$base.txt"
echo "\$ tacet filter --channel newsletter $work/list-$base.txt"
"$TACET" --data-dir "$DATA_DIR" filter --channel newsletter "$work/list-$base.txt"; echo
echo "== 7. sessions, history, the chain and tree, a rebuild and a replay"
t sessions
t history "$second"
t verify
t rebuild
asof="$work/as-known-at-$base"
t replay --as-known-at now --out "$asof"
echo "\$ tacet --data-dir $asof check $second"
"$TACET" --data-dir "$asof" check "$second"
echo "== 8. proofs a regulator checks with only the public key"
t key
"$TACET" --data-dir "$DATA_DIR" key > "$work/tacet-$base.pub"
t checkpoint
"$TACET" --data-dir "$DATA_DIR" checkpoint > "$work/checkpoint-$base.txt"
t proof "$second" --out "$work/proof-$base.json"
t verify --proof "$work/proof-$base.json" --key "$work/tacet-$base.pub"
t unblock "$second" --reason "customer asked to be called back" --officer m.bianchi
t verify --since "$work/checkpoint-$base.txt"
echo "== 9. erasure (GDPR art. 17): the personal data go, the suppression stays"
t erase "$mail" --request "DPO-$base" --officer m.bianchi
t check "$mail" --channel newsletter
t history "$mail"
t verify --proof "$work/proof-$base.json" --key "$work/tacet-$base.pub"
