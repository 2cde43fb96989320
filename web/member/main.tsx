import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { resourcesFrom, setupI18n } from '../shared/i18n.ts';
import { App } from './app.tsx';

const files = import.meta.glob<Record<string, unknown>>(['../shared/locales/*.json', './locales/*.json', './routes/*/locales/*.json'], {
  eager: true,
  import: 'default',
});

await setupI18n(resourcesFrom(files));
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
