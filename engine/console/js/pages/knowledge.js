// Placeholder: the knowledge page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'knowledge',
  path: '#/knowledge',
  nav: 'nav.knowledge',
  title: 'knowledge',
  scopes: [],
  render(main) {
    main.append(heading('knowledge'), h('p', {}, 'Not built yet.'));
  },
};
