// Vite's `?worker&url` import (vite/client declares it too; the renderer's tsconfig does not load vite/client).
declare module '*?worker&url' {
  const url: string;
  export default url;
}
