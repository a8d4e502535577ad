/** Kept so that existing imports of `containerizer/docker.js` compile; the rooms live in `docker/`. */
export * from './docker/index.js';
