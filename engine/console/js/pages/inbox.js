// Placeholder: the inbox page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'inbox',
  path: '#/inbox',
  nav: 'nav.inbox',
  title: 'inbox',
  scopes: [],
  render(main) {
    main.append(heading('inbox'), h('p', {}, 'Not built yet.'));
  },
};
