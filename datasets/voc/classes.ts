/**
 * The 20 PASCAL VOC object classes in the devkit's order (VOCdevkit `VOCinit.m`, and the order
 * py-faster-rcnn / detectron2 average over). Label `i` of a VOC record is `VOC_CLASSES[i]`.
 */
export const VOC_CLASSES = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
  'tvmonitor',
] as const;

/** One of the 20 VOC class names. */
export type VocClass = (typeof VOC_CLASSES)[number];
