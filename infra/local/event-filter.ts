/** Lambda event filtering for the local pumps: the matcher lives in shared/ (the fan-out checks its records with it too). */
export { matchesAny, matchesFilter, type FilterPattern } from '../../shared/store/stream-filter.js';
