# wrk_run URL [HEADER]: wrk with 2 threads and 64 connections for
# SECONDS_EACH seconds; prints "REQUESTS/S P50-MS P99-MS NON-2XX".
# Sourced by the portal's benchmarks (portal.sh, storage_api.sh).
wrk_run() {
	wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency ${2:+-H "$2"} "$1" >wrk.out 2>&1
	awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/Non-2xx/ { bad = $NF }
		END { printf "%.0f %.2f %.2f %s\n", rps, p50, p99, bad + 0 }' wrk.out
}
