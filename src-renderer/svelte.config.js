// Svelte 5 understands TypeScript in <script lang="ts"> natively; no preprocessor needed.
export default {};
